/** `gcp-cloudrun`: not implemented yet. */
import { PLATFORMS, type TargetModule } from "./types";

export const gcpCloudRun: TargetModule<Record<string, never>> = {
    kind: "gcp-cloudrun",
    settingsKey: "cloudrun",
    platforms: PLATFORMS,
    parse(r) {
        r.report("", "gcp-cloudrun", "a target kind that is implemented (local)", "pulumi config set --path 'onedigest:targets[0]' local");
        return {};
    },
    deploy() {
        throw new Error("target gcp-cloudrun is not implemented yet");
    },
};
