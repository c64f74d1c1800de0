/**
 * onedigest's policy pack: the program's promises, held by the engine on every preview and update
 * of any stack run with `--policy-pack policy` (docs/policy.md).
 */
import { PolicyPack } from "@pulumi/policy";

import { installRecorder } from "./engine";
import { policies } from "./policies";

// Before the PolicyPack starts its server: the pack reads the engine's requests as sent (engine.ts).
installRecorder();

new PolicyPack("onedigest", { enforcementLevel: "mandatory", policies });
