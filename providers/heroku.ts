/** `heroku`: not implemented yet. */
import { PLATFORMS, type TargetModule } from "./types";

export const heroku: TargetModule<Record<string, never>> = {
    kind: "heroku",
    settingsKey: "heroku",
    platforms: PLATFORMS,
    parse(r) {
        r.report("", "heroku", "a target kind that is implemented (local)", "pulumi config set --path 'onedigest:targets[0]' local");
        return {};
    },
    deploy() {
        throw new Error("target heroku is not implemented yet");
    },
};
