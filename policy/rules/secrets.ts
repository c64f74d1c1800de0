/**
 * no-plain-secrets: no secret-looking name in a target's plain environment, and no plain input
 * anywhere in the stack that carries the value of a secret input of the same stack.
 */
import { looksSecret } from "../secretNames";
import { archiveFiles, asString, field, isUnknown, items, leaves, named, parseJson, Secret, type Resource, type Value } from "../values";
import { taskContainers, runContainers } from "./images";
import { beanstalkSettings } from "./production";
import { TYPES, type Violation } from "./types";

export interface SecretsConfig {
    /** Names that look secret but hold no secret. @default ["SECRET_KEY_VERSION"] (the Secrets Manager version ID Beanstalk releases carry) */
    readonly allowedNames: readonly string[];
    /** Secret values shorter than this are not looked for in plain inputs (too likely to match by chance). @default 8 */
    readonly minSecretLength: number;
}
export const DEFAULT_SECRETS: SecretsConfig = { allowedNames: ["SECRET_KEY_VERSION"], minSecretLength: 8 };

/** One plain environment variable a target sets. */
interface PlainEnv {
    readonly resource: Resource;
    readonly path: string;
    readonly name: string;
}

/** The environment variables a resource sets in plain (not from a secret store, not a secret input). */
export function plainEnvNames(r: Resource): PlainEnv[] {
    const out: PlainEnv[] = [];
    const add = (path: string, name: string | undefined) => {
        if (name) out.push({ resource: r, path, name });
    };
    switch (r.type) {
        case TYPES.taskDefinition: {
            if (r.props.containerDefinitions instanceof Secret) break;
            const containers = taskContainers(r);
            if (isUnknown(containers)) break;
            for (const { index, def } of containers) {
                const env = Array.isArray(def.environment) ? def.environment : [];
                env.forEach((e: { name?: unknown }, i: number) => add(`containerDefinitions[${index}].environment[${i}].name`, typeof e?.name === "string" ? e.name : undefined));
            }
            break;
        }
        case TYPES.cloudRunV2:
        case TYPES.cloudRunV1:
            for (const { path, container } of runContainers(r)) {
                items(field(container, "envs")).forEach((e, i) => {
                    if (e instanceof Secret || field(e, "value") === undefined || field(e, "value") instanceof Secret) return;
                    add(`${path}.envs[${i}].name`, asString(field(e, "name")));
                });
            }
            break;
        case TYPES.beanstalkEnvironment:
            for (const name of beanstalkSettings(r, "aws:elasticbeanstalk:application:environment")?.keys() ?? []) add(`settings[aws:elasticbeanstalk:application:environment ${name}]`, name);
            break;
        case TYPES.bucketObject:
            if (r.props.source instanceof Secret) break;
            for (const [file, text] of Object.entries(archiveFiles(r.props.source))) {
                if (isUnknown(text)) continue;
                const doc = parseJson(text) as { option_settings?: Array<{ namespace?: unknown; option_name?: unknown }> } | undefined;
                (Array.isArray(doc?.option_settings) ? doc.option_settings : []).forEach((s, i) => {
                    if (s?.namespace === "aws:elasticbeanstalk:application:environment" && typeof s.option_name === "string") add(`source[${JSON.stringify(file)}].option_settings[${i}].option_name`, s.option_name);
                });
            }
            break;
        case TYPES.container:
            if (r.props.envs instanceof Secret || isUnknown(r.props.envs)) break;
            items(r.props.envs).forEach((e, i) => {
                if (e instanceof Secret) return;
                add(`envs[${i}]`, asString(e)?.split("=")[0]);
            });
            break;
        case TYPES.herokuApp: {
            const vars = r.props.configVars;
            if (vars instanceof Secret || isUnknown(vars)) break;
            for (const [name, value] of Object.entries((vars ?? {}) as Record<string, Value>)) if (!(value instanceof Secret)) add(`configVars.${name}`, name);
            break;
        }
    }
    return out;
}

/** A value some resource holds as a secret, and where. */
export interface SecretValue {
    readonly value: string;
    readonly where: string;
}

/**
 * The secret values of the stack's resources: every string a secret holds directly, and inside a
 * secret object or list only what a secret-looking name holds (`SECRET_KEY` of a map, or a
 * `SECRET_KEY=…` entry): the other entries of such a bag (a port, a flag) are no secret by themselves.
 */
export function secretValues(resources: readonly Resource[], config: SecretsConfig = DEFAULT_SECRETS): SecretValue[] {
    const out: SecretValue[] = [];
    const add = (value: string, where: string) => {
        if (value.length >= config.minSecretLength) out.push({ value, where });
    };
    const visit = (v: Value, path: string, r: Resource) => {
        if (v instanceof Secret) {
            const inner = v.value;
            if (typeof inner === "string") add(inner, `${named(r)} ${path}`);
            else collectNamed(inner, path, r);
            return;
        }
        if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${path}[${i}]`, r));
        else if (typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype) for (const [k, x] of Object.entries(v)) visit(x, path ? `${path}.${k}` : k, r);
    };
    const collectNamed = (v: Value, path: string, r: Resource) => {
        for (const leaf of leaves(v, path)) {
            if (typeof leaf.value !== "string") continue;
            const key = leaf.path.split(/[.[\]"]+/).filter(Boolean).pop() ?? "";
            const eq = leaf.value.indexOf("=");
            if (looksSecret(key)) add(leaf.value, `${named(r)} ${leaf.path}`);
            else if (eq > 0 && looksSecret(leaf.value.slice(0, eq))) add(leaf.value.slice(eq + 1), `${named(r)} ${leaf.path}`);
        }
    };
    for (const r of resources) visit(r.props as Value, "", r);
    return out;
}

export function checkNoPlainSecrets(resources: readonly Resource[], config: SecretsConfig = DEFAULT_SECRETS): Violation[] {
    const out: Violation[] = [];
    for (const r of resources) {
        for (const env of plainEnvNames(r)) {
            if (!looksSecret(env.name) || config.allowedNames.includes(env.name)) continue;
            out.push({
                urn: r.urn,
                message: `${named(r)}: ${env.path} is ${env.name}, a secret-looking name in plain environment. Fix: keep secrets in the platform's secret store (onedigest:secretKey reaches the app as SECRET_KEY from it), or list the name in the pack config's no-plain-secrets.allowedNames if it holds no secret.`,
            });
        }
    }
    const secrets = secretValues(resources, config);
    if (secrets.length === 0) return out;
    for (const r of resources) {
        for (const leaf of leaves(r.props as Value)) {
            if (leaf.secret || typeof leaf.value !== "string" || leaf.value.length < config.minSecretLength) continue;
            const text = leaf.value;
            const hit = secrets.find((s) => text.includes(s.value));
            if (!hit) continue;
            out.push({
                urn: r.urn,
                message: `${named(r)}: ${leaf.path || "(its inputs)"} carries in plain the value of a secret input (${hit.where}). Fix: pass it as a secret (pulumi.secret, or the platform's secret reference), never as a plain input.`,
            });
        }
    }
    return out;
}
