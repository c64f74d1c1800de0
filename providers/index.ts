/** kind → module. Adding a target: one module in providers/ and one line here. */
import { awsBeanstalk } from "./awsBeanstalk";
import { awsEcs } from "./awsEcs";
import { gcpCloudRun } from "./gcpCloudRun";
import { heroku } from "./heroku";
import { local } from "./local";
import { defineTarget, type Target, type TargetKind } from "./types";

export const modules = {
    local: defineTarget(local),
    heroku: defineTarget(heroku),
    "aws-ecs": defineTarget(awsEcs),
    "aws-beanstalk": defineTarget(awsBeanstalk),
    "gcp-cloudrun": defineTarget(gcpCloudRun),
} as const satisfies Record<TargetKind, Target>;
