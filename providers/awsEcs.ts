/** `aws-ecs`: not implemented yet. */
import { PLATFORMS, type TargetModule } from "./types";

export const awsEcs: TargetModule<Record<string, never>> = {
    kind: "aws-ecs",
    settingsKey: "ecs",
    platforms: PLATFORMS,
    parse(r) {
        r.report("", "aws-ecs", "a target kind that is implemented (local)", "pulumi config set --path 'onedigest:targets[0]' local");
        return {};
    },
    deploy() {
        throw new Error("target aws-ecs is not implemented yet");
    },
};
