/**
 * Secrets Manager: `aws:secretsmanager/secret:Secret` and `aws:secretsmanager/secretVersion:SecretVersion`.
 * A deleted secret with a recovery window stays in the store, scheduled for deletion, and keeps its
 * name until the window ends (the cloud's clock: Db.now). The store keeps a version's SHA-256, not
 * its value: enough for a test to see which value is current.
 */
import { createHash, randomUUID } from "crypto";

import { CloudError, type ForceNew, type InvokeFn, type Op, type Props, type ResourceModule, type Rule } from "../framework";
import { arn, hexId, refuse, regionOf, required, str, type Call } from "./common";

const SECRET = "internal/service/secretsmanager/secret.go";
const VERSION = "internal/service/secretsmanager/secret_version.go";
const SECRET_DATA = "internal/service/secretsmanager/secret_data_source.go";

export const RULES = {
    secretName: {
        rule: "a secret name is unique per account and region",
        error: { status: 400, code: "ResourceExistsException", message: "A resource with the ID you requested already exists." },
        source: "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html (Errors: ResourceExistsException)",
    },
    scheduledForDeletion: {
        rule: "a secret deleted with a recovery window keeps its name until the window ends (the provider retries CreateSecret on this error for its propagation timeout, then fails with it)",
        error: { status: 400, code: "InvalidRequestException", message: "You can't create this secret because a secret with this name is already scheduled for deletion." },
        source: `${SECRET}:187 (the InvalidRequestException CreateSecret answers); https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html (RecoveryWindowInDays, ForceDeleteWithoutRecovery)`,
    },
    recoveryWindow: {
        rule: "a recovery window is 7 to 30 days, or 0 (delete at once: ForceDeleteWithoutRecovery)",
        error: { status: 0, code: "provider", message: "expected recovery_window_in_days to be in the range (7 - 30) or 0, got {days}" },
        source: `${SECRET}:101 (validation.IntBetween(7, 30) or IntInSlice {0}); API_DeleteSecret.html (RecoveryWindowInDays: 7 to 30)`,
    },
    secretNotFound: {
        rule: "a version needs its secret",
        error: { status: 400, code: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." },
        source: "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html (Errors: ResourceNotFoundException)",
    },
    markedForDeletion: {
        rule: "a secret scheduled for deletion takes no new versions",
        error: { status: 400, code: "InvalidRequestException", message: "You can't perform this operation on the secret because it was marked for deletion." },
        source: `${VERSION} (findSecretVersion treats "because it was marked for deletion" as the secret being gone); API_PutSecretValue.html (InvalidRequestException: the secret is scheduled for deletion)`,
    },
    lookupNotFound: {
        rule: "getSecret finds no secret that is missing or scheduled for deletion (findSecretByID: DeletedDate set is not found)",
        error: { status: 0, code: "provider", message: "reading Secrets Manager Secret ({id}): couldn't find resource" },
        source: `${SECRET_DATA} dataSourceSecretRead; ${SECRET} findSecretByID; terraform-plugin-sdk helper/retry/error.go NotFoundError.Error`,
    },
} as const satisfies Record<string, Rule>;

export const SECRET_FORCE_NEW: readonly ForceNew[] = [
    { field: "name", source: `${SECRET}:72` },
    { field: "namePrefix", source: `${SECRET}:80` },
];

export const VERSION_FORCE_NEW: readonly ForceNew[] = [
    { field: "secretId", source: `${VERSION}:54` },
    { field: "secretBinary", source: `${VERSION}:59` },
    { field: "secretString", source: `${VERSION}:67` },
];

export const SECRETS = "secretsmanager.secrets";

export interface VersionRecord extends Props {
    versionId: string;
    stages: string[];
    sha256: string;
    createdAt: string;
}

export interface SecretRecord extends Props {
    arn: string;
    name: string;
    region: string;
    description: string;
    kmsKeyId: string;
    tags: Record<string, string>;
    createdDate: string;
    lastChangedDate: string;
    /** When DeleteSecret scheduled it (a recovery window), and when the window ends. */
    deletedDate?: string;
    deletionDate?: string;
    versions: Record<string, VersionRecord>;
}

const DAY_MS = 86_400_000;

function secretCall(operation: string, name: string): Call {
    return { subject: `Secrets Manager Secret (${name})`, service: "Secrets Manager", operation };
}

/** Drops secrets whose recovery window has ended: Secrets Manager deletes them then. */
function purge(op: Op): Record<string, SecretRecord> {
    const table = op.db.table<SecretRecord>(SECRETS);
    for (const [key, secret] of Object.entries(table)) {
        if (secret.deletionDate && Date.parse(secret.deletionDate) <= op.now()) delete table[key];
    }
    return table;
}

function recoveryWindow(inputs: Props): number {
    const days = inputs.recoveryWindowInDays;
    return typeof days === "number" ? days : 30;
}

function byIdOrName(table: Record<string, SecretRecord>, region: string, idOrName: string): [string, SecretRecord] | undefined {
    const byName = table[`${region}/${idOrName}`];
    if (byName) return [`${region}/${idOrName}`, byName];
    return Object.entries(table).find(([, s]) => s.arn === idOrName);
}

export const secret: ResourceModule = {
    type: "aws:secretsmanager/secret:Secret",
    forceNew: SECRET_FORCE_NEW,
    check(inputs) {
        const days = recoveryWindow(inputs);
        return days === 0 || (days >= 7 && days <= 30) ? [] : [{ property: "recoveryWindowInDays", reason: RULES.recoveryWindow.error.message.replace("{days}", String(days)) }];
    },
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const name = required(inputs, "name", "aws:secretsmanager/secret:Secret");
        const table = purge(op);
        const existing = table[`${region}/${name}`];
        if (existing?.deletionDate) throw refuse(RULES.scheduledForDeletion, secretCall("CreateSecret", name));
        if (existing) throw refuse(RULES.secretName, secretCall("CreateSecret", name));
        // Secrets Manager appends a hyphen and six random characters to the name in the ARN.
        const now = new Date(op.now()).toISOString();
        const record: SecretRecord = {
            arn: arn("secretsmanager", region, `secret:${name}-${hexId(3)}`),
            name,
            region,
            ...held(inputs),
            createdDate: now,
            lastChangedDate: now,
            versions: {},
        };
        table[`${region}/${name}`] = record;
        return { id: record.arn, outs: secretOutputs(inputs, record) };
    },
    read(op, id, state) {
        const found = byIdOrName(purge(op), regionOf(op, state), id);
        return found && !found[1].deletionDate ? { ...state, ...secretOutputs(state, found[1]) } : undefined;
    },
    update(op, id, _olds, news) {
        const [, record] = byIdOrName(purge(op), regionOf(op, news), id)!;
        Object.assign(record, held(news), { lastChangedDate: new Date(op.now()).toISOString() });
        return secretOutputs(news, record);
    },
    importInputs(op, id) {
        // What DescribeSecret returns (SECRET: resourceSecretRead), less defaults. The recovery window
        // is no property of the secret: Read never sets recovery_window_in_days, so an imported
        // secret has none (the provider's own import tests ignore it: secret_test.go,
        // ImportStateVerifyIgnore "recovery_window_in_days").
        const [, record] = byIdOrName(purge(op), regionOf(op), id)!;
        return {
            name: record.name,
            ...(record.description ? { description: record.description } : {}),
            ...(record.kmsKeyId ? { kmsKeyId: record.kmsKeyId } : {}),
            ...(Object.keys(record.tags).length > 0 ? { tags: record.tags } : {}),
        };
    },
    delete(op, id, state) {
        const table = purge(op);
        const found = byIdOrName(table, regionOf(op, state), id);
        if (!found || found[1].deletionDate) return;
        const days = recoveryWindow(state);
        if (days === 0) {
            delete table[found[0]];
            return;
        }
        found[1].deletedDate = new Date(op.now()).toISOString();
        found[1].deletionDate = new Date(op.now() + days * DAY_MS).toISOString();
    },
};

/** What CreateSecret / UpdateSecret / TagResource leave in the secret. */
function held(inputs: Props): Pick<SecretRecord, "description" | "kmsKeyId" | "tags"> {
    return { description: str(inputs, "description") ?? "", kmsKeyId: str(inputs, "kmsKeyId") ?? "", tags: (inputs.tags as Record<string, string> | undefined) ?? {} };
}

function secretOutputs(inputs: Props, record: SecretRecord): Props {
    return {
        ...inputs,
        arn: record.arn,
        description: record.description,
        forceOverwriteReplicaSecret: inputs.forceOverwriteReplicaSecret ?? false,
        kmsKeyId: record.kmsKeyId,
        name: record.name,
        namePrefix: "",
        policy: inputs.policy ?? "",
        recoveryWindowInDays: recoveryWindow(inputs),
        region: record.region,
        replicas: inputs.replicas ?? [],
        tags: record.tags,
        tagsAll: record.tags,
    };
}

/**
 * `aws.secretsmanager.getSecret` (SECRET_DATA: dataSourceSecretRead) by `arn` or `name`:
 * findSecretByID, which treats a secret scheduled for deletion (DeletedDate set) as not found —
 * "reading Secrets Manager Secret (<id>): couldn't find resource" (retry.NotFoundError.Error,
 * terraform-plugin-sdk helper/retry/error.go).
 */
export const getSecret: InvokeFn = (op: Op, args: Props) => {
    const region = regionOf(op, args);
    const secretId = str(args, "arn") ?? str(args, "name");
    if (!secretId) throw new CloudError(0, "provider", 'one of `arn,name` must be specified');
    const found = byIdOrName(purge(op), region, secretId);
    if (!found || found[1].deletionDate) throw refuse(RULES.lookupNotFound, secretCall("DescribeSecret", secretId), { id: secretId });
    const record = found[1];
    return {
        arn: record.arn,
        createdDate: record.createdDate,
        description: record.description,
        id: record.arn,
        kmsKeyId: record.kmsKeyId,
        lastChangedDate: record.lastChangedDate,
        name: record.name,
        policy: "",
        region: record.region,
        tags: record.tags,
        type: "",
    };
};

export const secretVersion: ResourceModule = {
    type: "aws:secretsmanager/secretVersion:SecretVersion",
    forceNew: VERSION_FORCE_NEW,
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const secretId = required(inputs, "secretId", "aws:secretsmanager/secretVersion:SecretVersion");
        const call: Call = { subject: `Secrets Manager Secret (${secretId}) value`, service: "Secrets Manager", operation: "PutSecretValue" };
        const found = byIdOrName(purge(op), region, secretId);
        if (!found) throw refuse(RULES.secretNotFound, call);
        const record = found[1];
        if (record.deletionDate) throw refuse(RULES.markedForDeletion, call);
        const value = str(inputs, "secretString") ?? str(inputs, "secretBinary");
        if (value === undefined) throw new CloudError(0, "provider", "one of secret_string or secret_binary must be set");
        // The new version takes AWSCURRENT; the one that had it becomes AWSPREVIOUS (PutSecretValue, VersionStages).
        for (const v of Object.values(record.versions)) {
            v.stages = v.stages.includes("AWSCURRENT") ? ["AWSPREVIOUS"] : v.stages.filter((s) => s !== "AWSPREVIOUS");
        }
        record.lastChangedDate = new Date(op.now()).toISOString();
        const versionId = randomUUID();
        record.versions[versionId] = { versionId, stages: ["AWSCURRENT"], sha256: createHash("sha256").update(value).digest("hex"), createdAt: new Date(op.now()).toISOString() };
        return { id: `${record.arn}|${versionId}`, outs: { ...inputs, arn: record.arn, region, versionId, versionStages: ["AWSCURRENT"], secretBinary: inputs.secretBinary ?? "" } };
    },
    read(op, id, state) {
        const [secretArn, versionId] = id.split("|");
        const found = byIdOrName(purge(op), regionOf(op, state), secretArn);
        const version = found?.[1].versions[versionId];
        return version ? { ...state, versionStages: version.stages } : undefined;
    },
    update(_op, _id, olds, news) {
        return { ...olds, ...news };
    },
    delete(op, id, state) {
        // The provider removes every stage but AWSCURRENT, which can only move (VERSION: resourceSecretVersionDelete).
        const [secretArn, versionId] = id.split("|");
        const version = byIdOrName(purge(op), regionOf(op, state), secretArn)?.[1].versions[versionId];
        if (version) version.stages = version.stages.filter((s) => s === "AWSCURRENT");
    },
};
