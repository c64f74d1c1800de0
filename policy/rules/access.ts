/**
 * registry-hardening: ECR scans on push and keeps tags immutable; Artifact Registry keeps tags
 * immutable. iam-least-privilege: no IAM policy allows every action on every resource.
 */
import { asBoolean, asString, field, isUnknown, items, named, parseJson, type Resource, type Value } from "../values";
import { TYPES, type Violation } from "./types";

export function checkRegistryHardening(r: Resource): Violation[] {
    const out: Violation[] = [];
    if (r.type === TYPES.ecr) {
        const scan = field(r.props.imageScanningConfiguration, "scanOnPush");
        if (!isUnknown(r.props.imageScanningConfiguration) && !isUnknown(scan) && asBoolean(scan) !== true) {
            out.push({ message: `${named(r)}: imageScanningConfiguration.scanOnPush is ${JSON.stringify(scan ?? null)}; every image is scanned when pushed. Fix: imageScanningConfiguration: { scanOnPush: true }.` });
        }
        const mutability = r.props.imageTagMutability;
        if (!isUnknown(mutability) && asString(mutability) !== "IMMUTABLE") {
            out.push({ message: `${named(r)}: imageTagMutability is ${JSON.stringify(mutability ?? "MUTABLE")}; a tag must never move to other bits. Fix: imageTagMutability: "IMMUTABLE".` });
        }
    }
    if (r.type === TYPES.artifactRegistry) {
        const format = asString(r.props.format);
        const immutable = field(r.props.dockerConfig, "immutableTags");
        if ((format ?? "DOCKER").toUpperCase() === "DOCKER" && !isUnknown(r.props.dockerConfig) && !isUnknown(immutable) && asBoolean(immutable) !== true) {
            out.push({ message: `${named(r)}: dockerConfig.immutableTags is ${JSON.stringify(immutable ?? null)}; a tag must never move to other bits. Fix: dockerConfig: { immutableTags: true }.` });
        }
    }
    return out;
}

function strings(v: unknown): string[] {
    if (typeof v === "string") return [v];
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/** The statements of a policy document that allow every action on every resource. */
export function adminStatements(document: unknown): number[] {
    const doc = document as { Statement?: unknown } | undefined;
    const statements = Array.isArray(doc?.Statement) ? doc.Statement : doc?.Statement ? [doc.Statement] : [];
    const out: number[] = [];
    statements.forEach((s: { Effect?: unknown; Action?: unknown; Resource?: unknown }, i: number) => {
        const allow = (s?.Effect ?? "Allow") === "Allow";
        const anyAction = strings(s?.Action).some((a) => a === "*" || a === "*:*");
        const anyResource = strings(s?.Resource).includes("*");
        if (allow && anyAction && anyResource) out.push(i);
    });
    return out;
}

export function checkLeastPrivilege(r: Resource): Violation[] {
    const documents: Array<[string, Value | undefined]> = [];
    if (r.type === TYPES.rolePolicy || r.type === TYPES.iamPolicy) documents.push(["policy", r.props.policy]);
    if (r.type === TYPES.role) items(r.props.inlinePolicies).forEach((p, i) => documents.push([`inlinePolicies[${i}].policy`, field(p, "policy")]));
    const out: Violation[] = [];
    for (const [path, value] of documents) {
        const doc = parseJson(value);
        if (isUnknown(doc)) continue;
        for (const i of adminStatements(doc)) {
            out.push({ message: `${named(r)}: ${path} Statement[${i}] allows Action "*" on Resource "*" (administrator access). Fix: name the actions and the resources this role needs (for example secretsmanager:GetSecretValue on the one secret's ARN).` });
        }
    }
    return out;
}
