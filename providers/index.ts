/**
 * kind → module: the one list of target kinds. Adding a target is one module in providers/ and one
 * line here; config validation, the docs tests and the contract tests all read this map.
 */
import { awsBeanstalk } from "./awsBeanstalk";
import { awsEcs } from "./awsEcs";
import { awsEcsExpress } from "./awsEcsExpress";
import { gcpCloudRun } from "./gcpCloudRun";
import { heroku } from "./heroku";
import { local } from "./local";
import { defineTarget, type Target } from "./types";

export const modules = {
    local: defineTarget(local),
    heroku: defineTarget(heroku),
    "aws-ecs": defineTarget(awsEcs),
    "aws-beanstalk": defineTarget(awsBeanstalk),
    "aws-ecs-express": defineTarget(awsEcsExpress),
    "gcp-cloudrun": defineTarget(gcpCloudRun),
} as const satisfies Record<string, Target>;

export type TargetKind = keyof typeof modules;
/** Every target kind, in the order of the map above. */
export const TARGET_KINDS = Object.keys(modules) as readonly TargetKind[];
