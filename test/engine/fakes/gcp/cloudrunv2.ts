/**
 * Cloud Run (Admin API v2): `gcp:cloudrunv2/service:Service`. Every change of the service's
 * `template` makes a new, immutable revision that takes all the traffic (the service's traffic
 * stays on LATEST unless told otherwise); any other change only moves `generation` on. Revisions
 * are kept (up to 1000 per service) by their full names. Before a revision starts, each secret it
 * mounts must be readable by its service account (secretmanager.ts's bindings). Records by
 * `<project>/<location>/<name>`.
 *
 * Revisions: "When you deploy to a service or change the configuration of a service, an immutable
 * revision is created ... The revision suffix is assigned automatically"
 * (https://cloud.google.com/run/docs/managing/revisions); a revision the template does not name is
 * named after the service (FILE:717) as `<service>-<generation, 5 digits>-<3 characters>`.
 * URLs: every service gets a hash-based URL, `uri`; `urls` adds the deterministic
 * `https://<service>-<project number>.<region>.run.app` when that DNS label fits in 63 characters
 * (https://cloud.google.com/run/docs/triggering/https-request#deterministic).
 */
import { CloudError, type ForceNew, type Props, type ResourceModule, type Rule } from "../framework";
import { GoogleError, locationOf, projectNumber, projectOf, requireService, str, stringMap, timestamp, token } from "./common";
import { BINDINGS, findSecret, parseSecret, VERSIONS, type VersionRecord } from "./secretmanager";

const FILE = "google/services/cloudrunv2/resource_cloud_run_v2_service.go";
export const TABLE = "run.services";
export const REVISIONS = "run.revisions";
const API = "run.googleapis.com";
const SECRET_ACCESSOR = "roles/secretmanager.secretAccessor";

const FORCE_NEW: readonly ForceNew[] = [
    { field: "location", source: `${FILE}:149` },
    { field: "name", source: `${FILE}:155` },
    { field: "tags", source: `${FILE}:1284` },
    { field: "project", source: `${FILE}:1574` },
];

export const RULES = {
    uniqueName: {
        rule: "a service name is unique per project and region",
        error: { status: 409, code: "ALREADY_EXISTS", message: "Resource '{name}' already exists." },
        source: `the resource name projects/{project}/locations/{location}/services/{name} (${FILE}:1811) names one resource (https://google.aip.dev/122); a create of an existing name returns ALREADY_EXISTS (https://google.aip.dev/133); the message as the API words it`,
    },
    secretAccess: {
        rule: "a revision that mounts a secret starts only if its service account may read that secret (roles/secretmanager.secretAccessor)",
        error: {
            status: 0,
            code: "FAILED_PRECONDITION",
            message:
                "{activity}: Error code 9, message: spec.template.spec.containers[{container}].env[{env}].value_from.secret_key_ref.name: Permission denied on secret: projects/{number}/secrets/{secretId}/versions/{version} for Revision service account {account}. The service account used must be granted the 'Secret Manager Secret Accessor' role (roles/secretmanager.secretAccessor) at the secret, project or higher level.",
        },
        source: `https://cloud.google.com/run/docs/configuring/services/secrets (the service identity needs the Secret Manager Secret Accessor role); the operation's error as the provider reports it: ${FILE}:1823, google/tpgresource/common_operation.go:170 and :35; the message as the API words it`,
    },
    deletionProtection: {
        rule: "a service with deletionProtection (the provider's default) is not deleted",
        error: { status: 0, code: "provider", message: "cannot destroy service without setting deletion_protection=false and running `terraform apply`" },
        source: `${FILE}:2174 (default true: ${FILE}:1893)`,
    },
    deletionPolicy: {
        rule: "a service whose deletionPolicy is PREVENT is not deleted",
        error: { status: 0, code: "provider", message: 'cannot destroy CloudRunV2Service without setting deletion_policy="DELETE" and running `terraform apply`' },
        source: `${FILE}:2141`,
    },
} as const satisfies Record<string, Rule>;

/** Inputs the provider keeps to itself: changing them changes nothing in the API. */
const CLIENT_SIDE = new Set(["deletionProtection", "deletionPolicy"]);

export interface ServiceRecord extends Props {
    project: string;
    location: string;
    name: string;
    uid: string;
    generation: number;
    /** The template of the latest revision, as JSON. */
    template: string;
    /** The spec the last generation had, as JSON. */
    spec: string;
    latestRevision: string;
    createTime: string;
    updateTime: string;
}

export interface RevisionRecord extends Props {
    service: string;
    name: string;
    generation: number;
    template: Props;
    createTime: string;
}

function spec(inputs: Props): string {
    return JSON.stringify(Object.fromEntries(Object.entries(inputs).filter(([k]) => !CLIENT_SIDE.has(k)).sort(([a], [b]) => a.localeCompare(b))));
}

function templateOf(inputs: Props): Props {
    const template = inputs.template;
    return typeof template === "object" && template !== null ? (template as Props) : {};
}

interface SecretEnv {
    container: number;
    env: number;
    secret: string;
    version: string;
}

function secretEnvs(template: Props): SecretEnv[] {
    const containers = Array.isArray(template.containers) ? (template.containers as Props[]) : [];
    return containers.flatMap((c, container) =>
        (Array.isArray(c.envs) ? (c.envs as Props[]) : []).flatMap((e, env) => {
            const ref = (e.valueSource as { secretKeyRef?: { secret?: string; version?: string } } | undefined)?.secretKeyRef;
            return ref?.secret ? [{ container, env, secret: ref.secret, version: ref.version ?? "latest" }] : [];
        }),
    );
}

/** Refuses a revision whose service account may not read a secret it mounts. */
function requireSecretAccess(op: Parameters<ResourceModule["create"]>[0], project: string, template: Props, activity: string): void {
    const account = str(template, "serviceAccount") ?? `${projectNumber(project)}-compute@developer.gserviceaccount.com`;
    for (const use of secretEnvs(template)) {
        const ref = parseSecret(use.secret, project);
        const secret = findSecret(op.db, ref.project, ref.secretId);
        if (!secret) throw new Error(`the fake holds no secret ${use.secret} for the revision to mount`);
        const versions = Object.values(op.db.table<VersionRecord>(VERSIONS)).filter((v) => v.project === secret.project && v.secretId === secret.secretId && v.state === "ENABLED");
        if (use.version !== "latest" && !versions.some((v) => String(v.version) === use.version)) {
            throw new Error(`the fake holds no enabled version ${use.version} of secret ${secret.secretId} for the revision to mount`);
        }
        const granted = op.db.table(BINDINGS)[`${secret.project}/${secret.secretId}/${SECRET_ACCESSOR}/serviceAccount:${account}`];
        if (!granted) {
            throw CloudError.of(RULES.secretAccess, { activity, container: use.container, env: use.env, number: projectNumber(secret.project), secretId: secret.secretId, version: use.version, account });
        }
    }
}

function newRevision(op: Parameters<ResourceModule["create"]>[0], record: ServiceRecord, template: Props): string {
    const short = str(template, "revision") ?? `${record.name}-${String(record.generation).padStart(5, "0")}-${token(`${record.uid}/${record.generation}`, 3)}`;
    const full = `projects/${record.project}/locations/${record.location}/services/${record.name}/revisions/${short}`;
    op.db.table<RevisionRecord>(REVISIONS)[full] = { service: `${record.project}/${record.location}/${record.name}`, name: short, generation: record.generation, template, createTime: timestamp(op.now()) };
    record.latestRevision = full;
    record.template = JSON.stringify(template);
    return full;
}

function outputs(record: ServiceRecord, inputs: Props): Props {
    const { project, location, name } = record;
    const number = projectNumber(project);
    const hashed = `https://${name}-${token(record.uid, 10)}.a.run.app`;
    const deterministic = `${name}-${number}`.length <= 63 ? [`https://${name}-${number}.${location}.run.app`] : [];
    const traffics = Array.isArray(inputs.traffics) && inputs.traffics.length > 0 ? inputs.traffics : [{ type: "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", percent: 100 }];
    return {
        ...inputs,
        project,
        location,
        name,
        uid: record.uid,
        etag: `"${token(`${record.uid}/${record.generation}/etag`, 16)}"`,
        generation: String(record.generation),
        observedGeneration: String(record.generation),
        latestCreatedRevision: record.latestRevision,
        latestReadyRevision: record.latestRevision,
        reconciling: false,
        uri: hashed,
        urls: [...deterministic, hashed],
        traffics,
        trafficStatuses: (traffics as Props[]).map((t) => ({ type: t.type, percent: t.percent, revision: t.revision ?? "", tag: t.tag ?? "", uri: "" })),
        terminalConditions: [{ type: "Ready", state: "CONDITION_SUCCEEDED", lastTransitionTime: record.updateTime, message: "", reason: "", revisionReason: "", executionReason: "", severity: "" }],
        conditions: [],
        createTime: record.createTime,
        updateTime: record.updateTime,
        creator: "onedigest-tests@fake.iam.gserviceaccount.com",
        lastModifier: "onedigest-tests@fake.iam.gserviceaccount.com",
        launchStage: str(inputs, "launchStage") ?? "GA",
        labels: stringMap(inputs, "labels"),
        effectiveLabels: stringMap(inputs, "labels"),
        pulumiLabels: stringMap(inputs, "labels"),
        annotations: stringMap(inputs, "annotations"),
        effectiveAnnotations: stringMap(inputs, "annotations"),
        deletionProtection: inputs.deletionProtection ?? true,
        deletionPolicy: str(inputs, "deletionPolicy") ?? "DELETE",
    };
}

export const service: ResourceModule = {
    type: "gcp:cloudrunv2/service:Service",
    forceNew: FORCE_NEW,
    create(op, inputs) {
        const project = projectOf(op, inputs);
        const location = locationOf(op, inputs);
        requireService(op.db, project, API);
        const name = str(inputs, "name") ?? "";
        const key = `${project}/${location}/${name}`;
        const services = op.db.table<ServiceRecord>(TABLE);
        if (services[key]) throw new GoogleError(CloudError.of(RULES.uniqueName, { name }));
        const template = templateOf(inputs);
        requireSecretAccess(op, project, template, "Error waiting to create Service: Error waiting for Creating Service");
        const now = timestamp(op.now());
        const record: ServiceRecord = { project, location, name, uid: token(`${key}@${op.now()}`, 36), generation: 1, template: "", spec: spec(inputs), latestRevision: "", createTime: now, updateTime: now };
        newRevision(op, record, template);
        services[key] = record;
        // The Terraform ID: FILE:1811.
        return { id: `projects/${project}/locations/${location}/services/${name}`, outs: outputs(record, inputs) };
    },
    read(op, _id, state) {
        const record = op.db.table<ServiceRecord>(TABLE)[`${state.project}/${state.location}/${state.name}`];
        return record ? { ...state, ...outputs(record, state), template: state.template } : undefined;
    },
    update(op, _id, olds, news) {
        const key = `${olds.project}/${olds.location}/${olds.name}`;
        const record = op.db.table<ServiceRecord>(TABLE)[key];
        if (!record) throw new Error(`no Cloud Run service ${key} in the fake's store`);
        const template = templateOf(news);
        const templateChanged = JSON.stringify(template) !== record.template;
        if (templateChanged) requireSecretAccess(op, record.project, template, "Error waiting for Updating Service");
        if (templateChanged || spec(news) !== record.spec) {
            record.generation += 1;
            record.spec = spec(news);
            record.updateTime = timestamp(op.now());
            if (templateChanged) newRevision(op, record, template);
        }
        return outputs(record, news);
    },
    delete(op, _id, state) {
        if (state.deletionPolicy === "PREVENT") throw CloudError.of(RULES.deletionPolicy);
        if (state.deletionPolicy === "ABANDON") return;
        if (state.deletionProtection !== false) throw CloudError.of(RULES.deletionProtection);
        const key = `${state.project}/${state.location}/${state.name}`;
        delete op.db.table(TABLE)[key];
        const revisions = op.db.table<RevisionRecord>(REVISIONS);
        for (const [full, revision] of Object.entries(revisions)) if (revision.service === key) delete revisions[full];
    },
};
