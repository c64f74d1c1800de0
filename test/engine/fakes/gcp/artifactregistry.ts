/**
 * Artifact Registry: `gcp:artifactregistry/repository:Repository`. A repository's `registryUri` is
 * where its images go; the fake's points at the harness's Artifact Registry stand-in
 * (ONEDIGEST_FAKE_GCP_REGISTRY, test/engine/clouds.ts), which pushes only into repositories this
 * table holds and keeps their tags immutable. Records by `<project>/<location>/<repositoryId>`.
 */
import { CloudError, requireEnv, type ForceNew, type InvokeFn, type Op, type Props, type ResourceModule, type Rule } from "../framework";
import { GoogleError, locationOf, projectOf, requireService, str, stringMap, timestamp } from "./common";

const FILE = "google/services/artifactregistry/resource_artifact_registry_repository.go";
const DATA = "google/services/artifactregistry/data_source_artifact_registry_repository.go";
export const TABLE = "artifactregistry.repositories";
const API = "artifactregistry.googleapis.com";

const FORCE_NEW: readonly ForceNew[] = [
    { field: "format", source: `${FILE}:305` },
    { field: "repositoryId", source: `${FILE}:315` },
    { field: "kmsKeyName", source: `${FILE}:448` },
    { field: "location", source: `${FILE}:472` },
    { field: "mavenConfig.allowSnapshotOverwrites", source: `${FILE}:493` },
    { field: "mavenConfig.versionPolicy", source: `${FILE}:500` },
    { field: "mode", source: `${FILE}:511` },
    // Every field under it is ForceNew too (FILE:527-813).
    { field: "remoteRepositoryConfig", source: `${FILE}:519` },
    { field: "project", source: `${FILE}:930` },
];

export const RULES = {
    uniqueId: {
        rule: "a repository ID is unique per project and location",
        error: { status: 409, code: "ALREADY_EXISTS", message: "the repository already exists." },
        source:
            `the resource name projects/{project}/locations/{location}/repositories/{repository} (${FILE}:1073) names one resource (https://google.aip.dev/122); a create of an existing name returns ALREADY_EXISTS (https://google.aip.dev/133); the message as the API words it`,
    },
    lookupNotFound: {
        rule: "getRepository finds no repository that is not there",
        error: { status: 0, code: "provider", message: "{id} not found" },
        source: `${DATA} dataSourceArtifactRegistryRepositoryRead (an ID the read left empty)`,
    },
    deletionPolicy: {
        rule: "a repository whose deletionPolicy is PREVENT is not deleted",
        error: { status: 0, code: "provider", message: 'cannot destroy ArtifactRegistryRepository without setting deletion_policy="DELETE" and running `terraform apply`' },
        source: `${FILE}:1413`,
    },
} as const satisfies Record<string, Rule>;

export interface RepositoryRecord extends Props {
    project: string;
    location: string;
    repositoryId: string;
    format: string;
    createTime: string;
    updateTime: string;
}

function outputs(record: RepositoryRecord, inputs: Props): Props {
    const { project, location, repositoryId } = record;
    return {
        ...inputs,
        project,
        location,
        repositoryId,
        format: record.format,
        mode: str(inputs, "mode") ?? "STANDARD_REPOSITORY",
        // The API's name is the full path; the provider keeps its last part (FILE:1502).
        name: repositoryId,
        registryUri: `${requireEnv("ONEDIGEST_FAKE_GCP_REGISTRY")}/${project}/${repositoryId}`,
        labels: stringMap(inputs, "labels"),
        effectiveLabels: stringMap(inputs, "labels"),
        pulumiLabels: stringMap(inputs, "labels"),
        createTime: record.createTime,
        updateTime: record.updateTime,
        deletionPolicy: str(inputs, "deletionPolicy") ?? "DELETE",
    };
}

export const repository: ResourceModule = {
    type: "gcp:artifactregistry/repository:Repository",
    forceNew: FORCE_NEW,
    create(op, inputs) {
        const project = projectOf(op, inputs);
        const location = locationOf(op, inputs);
        requireService(op.db, project, API);
        const repositoryId = str(inputs, "repositoryId") ?? "";
        const key = `${project}/${location}/${repositoryId}`;
        const table = op.db.table<RepositoryRecord>(TABLE);
        if (table[key]) throw new GoogleError(CloudError.of(RULES.uniqueId));
        const now = timestamp(op.now());
        table[key] = { project, location, repositoryId, format: str(inputs, "format") ?? "", createTime: now, updateTime: now, dockerConfig: inputs.dockerConfig ?? null };
        // The Terraform ID: FILE:1073.
        return { id: `projects/${project}/locations/${location}/repositories/${repositoryId}`, outs: outputs(table[key], inputs) };
    },
    read(op, id, state) {
        // An import reads by ID alone: projects/<project>/locations/<location>/repositories/<id> (FILE:1073).
        const [, project, , location, , repositoryId] = id.split("/");
        const key = state.project ? `${state.project}/${state.location}/${state.repositoryId}` : `${project}/${location}/${repositoryId}`;
        const record = op.db.table<RepositoryRecord>(TABLE)[key];
        if (!record) return undefined;
        return state.project ? { ...state, updateTime: record.updateTime } : outputs(record, { format: record.format, dockerConfig: record.dockerConfig ?? undefined });
    },
    // What the API keeps and the bridge maps back to inputs on an import: no defaults, no zero values.
    importInputs(_op, _id, outs) {
        return { project: outs.project, location: outs.location, repositoryId: outs.repositoryId, format: outs.format, ...(outs.dockerConfig ? { dockerConfig: outs.dockerConfig } : {}) };
    },
    update(op, _id, olds, news) {
        const key = `${olds.project}/${olds.location}/${olds.repositoryId}`;
        const record = op.db.table<RepositoryRecord>(TABLE)[key];
        if (!record) throw new Error(`no repository ${key} in the fake's store`);
        record.updateTime = timestamp(op.now());
        record.dockerConfig = news.dockerConfig ?? null;
        return outputs(record, news);
    },
    delete(op, _id, state) {
        if (state.deletionPolicy === "PREVENT") throw CloudError.of(RULES.deletionPolicy);
        if (state.deletionPolicy === "ABANDON") return;
        // Its images go with it: the stand-in registry refuses the path once the record is gone.
        delete op.db.table(TABLE)[`${state.project}/${state.location}/${state.repositoryId}`];
    },
};

/**
 * `gcp.artifactregistry.getRepository` (DATA: dataSourceArtifactRegistryRepositoryRead): the
 * repository's record by project, location and ID; a repository that is not there is
 * RULES.lookupNotFound, and an API not enabled answers as every call to it does (SERVICE_DISABLED).
 */
export const getRepository: InvokeFn = (op: Op, args: Props) => {
    const project = projectOf(op, args);
    const location = locationOf(op, args);
    const repositoryId = str(args, "repositoryId") ?? "";
    requireService(op.db, project, API);
    const id = `projects/${project}/locations/${location}/repositories/${repositoryId}`;
    const record = op.db.table<RepositoryRecord>(TABLE)[`${project}/${location}/${repositoryId}`];
    if (!record) throw CloudError.of(RULES.lookupNotFound, { id });
    return { ...outputs(record, { format: record.format }), id };
};
