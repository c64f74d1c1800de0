/** `aws-beanstalk`: not implemented yet. */
import { PLATFORMS, type TargetModule } from "./types";

export const awsBeanstalk: TargetModule<Record<string, never>> = {
    kind: "aws-beanstalk",
    settingsKey: "beanstalk",
    platforms: PLATFORMS,
    parse(r) {
        r.report("", "aws-beanstalk", "a target kind that is implemented (local)", "pulumi config set --path 'onedigest:targets[0]' local");
        return {};
    },
    deploy() {
        throw new Error("target aws-beanstalk is not implemented yet");
    },
};
