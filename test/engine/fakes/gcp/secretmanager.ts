/**
 * Secret Manager: `gcp:secretmanager/secret:Secret`, its versions
 * (`gcp:secretmanager/secretVersion:SecretVersion`) and who may read it
 * (`gcp:secretmanager/secretIamMember:SecretIamMember`). Versions are numbered per secret from 1
 * and never reused; deleting one destroys it (its record stays, DESTROYED), as the provider's
 * default deletion does. Cloud Run reads the bindings (cloudrunv2.ts) before it starts a revision
 * that mounts a version.
 */
import { CloudError, type ForceNew, type Props, type ResourceModule, type Rule } from "../framework";
import { GoogleError, projectNumber, projectOf, requireService, str, stringMap, timestamp, token } from "./common";

const SECRET_FILE = "google/services/secretmanager/resource_secret_manager_secret.go";
const VERSION_FILE = "google/services/secretmanager/resource_secret_manager_secret_version.go";
const IAM_FILE = "google/services/secretmanager/iam_secret_manager_secret.go";
const MEMBER_FILE = "google/tpgiamresource/resource_iam_member.go";
const API = "secretmanager.googleapis.com";

export const SECRETS = "secretmanager.secrets";
export const VERSIONS = "secretmanager.versions";
export const BINDINGS = "secretmanager.bindings";

export const RULES = {
    uniqueId: {
        rule: "a secret ID is unique per project",
        error: { status: 409, code: "ALREADY_EXISTS", message: "Secret [projects/{number}/secrets/{secretId}] already exists." },
        source: `the resource name projects/{project}/secrets/{secret_id} (${SECRET_FILE}:555) names one resource (https://google.aip.dev/122); a create of an existing name returns ALREADY_EXISTS (https://google.aip.dev/133); the message as the API words it`,
    },
    deletionProtection: {
        rule: "a secret with deletionProtection is not deleted",
        error: { status: 0, code: "provider", message: "cannot destroy secret manager secret without setting deletion_protection=false and running `terraform apply`" },
        source: `${SECRET_FILE}:898`,
    },
    secretDeletionPolicy: {
        rule: "a secret whose deletionPolicy is PREVENT is not deleted",
        error: { status: 0, code: "provider", message: 'cannot destroy SecretManagerSecret without setting deletion_policy="DELETE" and running `terraform apply`' },
        source: `${SECRET_FILE}:865`,
    },
    versionDeletionPolicy: {
        rule: "a secret version whose deletionPolicy is PREVENT is not deleted",
        error: { status: 0, code: "provider", message: 'cannot destroy SecretManagerSecretVersion without setting deletion_policy="DELETE" and running `terraform apply`' },
        source: `${VERSION_FILE}:447`,
    },
} as const satisfies Record<string, Rule>;

const SECRET_FORCE_NEW: readonly ForceNew[] = [
    // Every field under it is ForceNew too (SECRET_FILE:181-226).
    { field: "replication", source: `${SECRET_FILE}:172` },
    { field: "secretId", source: `${SECRET_FILE}:257` },
    { field: "tags", source: `${SECRET_FILE}:339` },
    { field: "project", source: `${SECRET_FILE}:432` },
];

const VERSION_FORCE_NEW: readonly ForceNew[] = [
    { field: "secretDataWoVersion", source: `${VERSION_FILE}:153` },
    { field: "secretData", source: `${VERSION_FILE}:160` },
    { field: "secret", source: `${VERSION_FILE}:176` },
    { field: "project", source: `${VERSION_FILE}:190` },
    { field: "isSecretDataBase64", source: `${VERSION_FILE}:218` },
];

const MEMBER_FORCE_NEW: readonly ForceNew[] = [
    { field: "project", source: `${IAM_FILE}:76` },
    { field: "secretId", source: `${IAM_FILE}:81` },
    { field: "role", source: `${MEMBER_FILE}:67` },
    { field: "member", source: `${MEMBER_FILE}:72` },
    // Its expression, title and description are ForceNew too (MEMBER_FILE:86-96).
    { field: "condition", source: `${MEMBER_FILE}:80` },
];

export interface SecretRecord extends Props {
    project: string;
    secretId: string;
    nextVersion: number;
    createTime: string;
}

export interface VersionRecord extends Props {
    project: string;
    secretId: string;
    version: number;
    state: "ENABLED" | "DISABLED" | "DESTROYED";
    data: string;
    createTime: string;
    destroyTime: string;
}

export interface BindingRecord extends Props {
    project: string;
    secretId: string;
    role: string;
    member: string;
}

/** `projects/{project}/secrets/{id}` (or a bare ID, in `project`) → its parts. */
export function parseSecret(ref: string, project: string): { project: string; secretId: string } {
    const m = /^projects\/([^/]+)\/secrets\/([^/]+)$/.exec(ref);
    return m ? { project: m[1], secretId: m[2] } : { project, secretId: ref };
}

/** The secret's record, looked up by project ID or by the number the API's names carry. */
export function findSecret(db: { table<T extends Props>(name: string): Record<string, T> }, project: string, secretId: string): SecretRecord | undefined {
    const secrets = db.table<SecretRecord>(SECRETS);
    return secrets[`${project}/${secretId}`] ?? Object.values(secrets).find((s) => projectNumber(s.project) === project && s.secretId === secretId);
}

export const secret: ResourceModule = {
    type: "gcp:secretmanager/secret:Secret",
    forceNew: SECRET_FORCE_NEW,
    create(op, inputs) {
        const project = projectOf(op, inputs);
        requireService(op.db, project, API);
        const secretId = str(inputs, "secretId") ?? "";
        const secrets = op.db.table<SecretRecord>(SECRETS);
        const key = `${project}/${secretId}`;
        if (secrets[key]) throw new GoogleError(CloudError.of(RULES.uniqueId, { number: projectNumber(project), secretId }));
        secrets[key] = { project, secretId, nextVersion: 1, createTime: timestamp(op.now()) };
        return {
            id: `projects/${project}/secrets/${secretId}`,
            outs: {
                ...inputs,
                project,
                secretId,
                name: `projects/${projectNumber(project)}/secrets/${secretId}`,
                createTime: secrets[key].createTime,
                labels: stringMap(inputs, "labels"),
                effectiveLabels: stringMap(inputs, "labels"),
                pulumiLabels: stringMap(inputs, "labels"),
                annotations: stringMap(inputs, "annotations"),
                effectiveAnnotations: stringMap(inputs, "annotations"),
                deletionProtection: inputs.deletionProtection ?? false,
                deletionPolicy: str(inputs, "deletionPolicy") ?? "DELETE",
            },
        };
    },
    read(op, _id, state) {
        return op.db.table(SECRETS)[`${state.project}/${state.secretId}`] ? state : undefined;
    },
    update(_op, _id, olds, news) {
        // Labels, annotations, rotation, topics, ttl, aliases: kept as given.
        return { ...olds, ...news, labels: stringMap(news, "labels"), effectiveLabels: stringMap(news, "labels"), pulumiLabels: stringMap(news, "labels") };
    },
    delete(op, _id, state) {
        if (state.deletionPolicy === "PREVENT") throw CloudError.of(RULES.secretDeletionPolicy);
        if (state.deletionPolicy === "ABANDON") return;
        if (state.deletionProtection === true) throw CloudError.of(RULES.deletionProtection);
        const key = `${state.project}/${state.secretId}`;
        delete op.db.table(SECRETS)[key];
        // A secret's versions and bindings go with it.
        for (const table of [VERSIONS, BINDINGS]) {
            const records = op.db.table(table);
            for (const k of Object.keys(records)) if (k.startsWith(`${key}/`)) delete records[k];
        }
    },
};

function versionName(record: VersionRecord): string {
    return `projects/${projectNumber(record.project)}/secrets/${record.secretId}/versions/${record.version}`;
}

export const secretVersion: ResourceModule = {
    type: "gcp:secretmanager/secretVersion:SecretVersion",
    forceNew: VERSION_FORCE_NEW,
    create(op, inputs) {
        const ref = parseSecret(str(inputs, "secret") ?? "", op.setting("project", inputs) ?? "");
        requireService(op.db, ref.project, API);
        const parent = findSecret(op.db, ref.project, ref.secretId);
        if (!parent) throw new Error(`the fake holds no secret ${str(inputs, "secret")} to add a version to`);
        const version = parent.nextVersion++;
        const record: VersionRecord = {
            project: parent.project,
            secretId: parent.secretId,
            version,
            state: inputs.enabled === false ? "DISABLED" : "ENABLED",
            data: str(inputs, "secretData") ?? "",
            createTime: timestamp(op.now()),
            destroyTime: "",
        };
        op.db.table<VersionRecord>(VERSIONS)[`${parent.project}/${parent.secretId}/${version}`] = record;
        const name = versionName(record);
        // The Terraform ID is the version's name (VERSION_FILE:322); `version` its last part (VERSION_FILE:556).
        return {
            id: name,
            outs: { ...inputs, name, version: String(version), project: parent.project, enabled: record.state === "ENABLED", createTime: record.createTime, destroyTime: "", deletionPolicy: str(inputs, "deletionPolicy") ?? "DELETE" },
        };
    },
    read(op, _id, state) {
        const record = Object.values(op.db.table<VersionRecord>(VERSIONS)).find((v) => versionName(v) === state.name);
        return record && record.state !== "DESTROYED" ? { ...state, enabled: record.state === "ENABLED" } : undefined;
    },
    update(op, _id, olds, news) {
        // Only `enabled` changes in place (and deletionPolicy, which lives in state).
        const record = Object.values(op.db.table<VersionRecord>(VERSIONS)).find((v) => versionName(v) === olds.name);
        if (record && record.state !== "DESTROYED") record.state = news.enabled === false ? "DISABLED" : "ENABLED";
        return { ...olds, ...news, enabled: news.enabled !== false };
    },
    delete(op, _id, state) {
        const policy = state.deletionPolicy;
        if (policy === "PREVENT") throw CloudError.of(RULES.versionDeletionPolicy);
        if (policy === "ABANDON") return;
        const record = Object.values(op.db.table<VersionRecord>(VERSIONS)).find((v) => versionName(v) === state.name);
        if (!record) return;
        // DELETE (the default) destroys the version's data; DISABLE only disables it (VERSION_FILE:475).
        if (policy === "DISABLE") {
            record.state = "DISABLED";
        } else {
            record.state = "DESTROYED";
            record.data = "";
            record.destroyTime = timestamp(op.now());
        }
    },
};

export const secretIamMember: ResourceModule = {
    type: "gcp:secretmanager/secretIamMember:SecretIamMember",
    forceNew: MEMBER_FORCE_NEW,
    create(op, inputs) {
        const ref = parseSecret(str(inputs, "secretId") ?? "", projectOf(op, inputs));
        requireService(op.db, ref.project, API);
        const parent = findSecret(op.db, ref.project, ref.secretId);
        if (!parent) throw new Error(`the fake holds no secret ${str(inputs, "secretId")} to bind a role on`);
        const role = str(inputs, "role") ?? "";
        const member = str(inputs, "member") ?? "";
        const resource = `projects/${parent.project}/secrets/${parent.secretId}`;
        op.db.table<BindingRecord>(BINDINGS)[`${parent.project}/${parent.secretId}/${role}/${member}`] = { project: parent.project, secretId: parent.secretId, role, member };
        // The Terraform ID: the resource, the role and the member (MEMBER_FILE:164, IAM_FILE:255).
        return { id: `${resource}/${role}/${member}`, outs: { ...inputs, project: parent.project, etag: `BwY${token(`${resource}/${role}/${member}/${op.now()}`, 9)}=` } };
    },
    read(op, _id, state) {
        const ref = parseSecret(String(state.secretId), String(state.project));
        return op.db.table(BINDINGS)[`${ref.project}/${ref.secretId}/${state.role}/${state.member}`] ? state : undefined;
    },
    update(_op, _id, olds, news) {
        return { ...olds, ...news };
    },
    delete(op, _id, state) {
        const ref = parseSecret(String(state.secretId), String(state.project));
        delete op.db.table(BINDINGS)[`${ref.project}/${ref.secretId}/${state.role}/${state.member}`];
    },
};
