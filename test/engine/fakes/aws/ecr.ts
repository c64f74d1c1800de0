/**
 * ECR: `aws:ecr/repository:Repository`, `aws:ecr/lifecyclePolicy:LifecyclePolicy` and the
 * `aws:ecr/getAuthorizationToken:getAuthorizationToken` invoke. A repository is a path in the
 * loopback registry that stands in for ECR (ONEDIGEST_FAKE_AWS_REGISTRY, login `AWS` with
 * ONEDIGEST_FAKE_AWS_PASSWORD), so pushes go to it through the real Docker provider; that
 * registry's proxy refuses a push to a tag that exists (ImageTagAlreadyExistsException: "The image
 * tag '<tag>' already exists in the '<repository>' repository and cannot be overwritten because the
 * repository is immutable." — ECR API PutImage, Errors). The images a repository holds are what
 * that registry lists for its path.
 */
import { execFileSync } from "child_process";

import { type ForceNew, type InvokeFn, type Op, type Props, type ResourceModule, type Rule } from "../framework";
import { ACCOUNT_ID, arn, ecrRegistry, refuse, regionOf, required, str, type Call } from "./common";

const REPOSITORY = "internal/service/ecr/repository.go";
const LIFECYCLE = "internal/service/ecr/lifecycle_policy.go";
const REPOSITORY_DATA = "internal/service/ecr/repository_data_source.go";

export const RULES = {
    repositoryName: {
        rule: "a repository name is unique per account and region",
        error: { status: 400, code: "RepositoryAlreadyExistsException", message: "The specified repository already exists in the specified registry." },
        source: "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html (Errors: RepositoryAlreadyExistsException)",
    },
    notEmpty: {
        rule: "a repository that holds images is deleted only with force (force_delete)",
        error: {
            status: 400,
            code: "RepositoryNotEmptyException",
            message: "The specified repository contains images. To delete a repository that contains images, you must force the deletion with the force parameter.",
        },
        source: `https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DeleteRepository.html (Errors: RepositoryNotEmptyException); ${REPOSITORY} resourceRepositoryDelete (Force: d.Get(force_delete))`,
    },
    repositoryNotFound: {
        rule: "a lifecycle policy needs its repository",
        error: {
            status: 400,
            code: "RepositoryNotFoundException",
            message: "The specified repository could not be found. Check the spelling of the specified repository and ensure that you are performing operations on the correct registry.",
        },
        source: "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutLifecyclePolicy.html (Errors: RepositoryNotFoundException)",
    },
    lookupNotFound: {
        rule: "getRepository finds no repository that is not there (RepositoryNotFoundException becomes retry.NotFoundError)",
        error: { status: 0, code: "provider", message: "reading ECR Repository ({name}): couldn't find resource" },
        source: `${REPOSITORY_DATA} dataSourceRepositoryRead; ${REPOSITORY} findRepositories; terraform-plugin-sdk helper/retry/error.go NotFoundError.Error`,
    },
} as const satisfies Record<string, Rule>;

export const REPOSITORY_FORCE_NEW: readonly ForceNew[] = [
    { field: "encryptionConfigurations", source: `${REPOSITORY}:80` },
    { field: "encryptionConfigurations.encryptionType", source: `${REPOSITORY}:67` },
    { field: "encryptionConfigurations.kmsKey", source: `${REPOSITORY}:75` },
    { field: "name", source: `${REPOSITORY}:135` },
];

export const LIFECYCLE_FORCE_NEW: readonly ForceNew[] = [
    { field: "policy", source: `${LIFECYCLE}:43` },
    { field: "repository", source: `${LIFECYCLE}:62` },
];

export const REPOSITORIES = "ecr.repositories";

const MANIFEST_TYPES = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
].join(", ");

interface RegistryReply {
    status: number;
    headers: Record<string, string>;
    body: string;
}

/**
 * One call to the ECR stand-in, synchronously (module calls run inside the store's lock): a child
 * Node process makes the HTTPS request, trusting the registry's certificate through the
 * NODE_EXTRA_CA_CERTS it inherits.
 */
function registryCall(method: string, path: string): RegistryReply {
    const { host, password } = ecrRegistry();
    const script = [
        "const [method, url, auth, accept] = process.argv.slice(1);",
        "const req = require('https').request(url, { method, headers: { Authorization: 'Basic ' + auth, Accept: accept } }, (res) => {",
        "  let body = ''; res.on('data', (d) => (body += d));",
        "  res.on('end', () => process.stdout.write(JSON.stringify({ status: res.statusCode, headers: res.headers, body })));",
        "});",
        "req.on('error', (e) => { process.stderr.write(String(e)); process.exit(1); });",
        "req.end();",
    ].join("\n");
    const auth = Buffer.from(`AWS:${password}`).toString("base64");
    const out = execFileSync(process.execPath, ["-e", script, method, `https://${host}${path}`, auth, MANIFEST_TYPES], { encoding: "utf8", timeout: 30_000 });
    return JSON.parse(out) as RegistryReply;
}

/** The tags the ECR stand-in holds for a repository (none when it has never been pushed to). */
export function repositoryTags(name: string): string[] {
    const reply = registryCall("GET", `/v2/${name}/tags/list`);
    if (reply.status === 404) return [];
    if (reply.status !== 200) throw new Error(`ECR stand-in: GET /v2/${name}/tags/list answered HTTP ${reply.status}: ${reply.body}`);
    return (JSON.parse(reply.body) as { tags?: string[] | null }).tags ?? [];
}

/** Deletes every tagged image of a repository from the ECR stand-in (DeleteRepository with force). */
function deleteImages(name: string): void {
    for (const tag of repositoryTags(name)) {
        const head = registryCall("HEAD", `/v2/${name}/manifests/${tag}`);
        const digest = head.headers["docker-content-digest"];
        if (!digest) throw new Error(`ECR stand-in: no digest for ${name}:${tag} (HTTP ${head.status})`);
        const del = registryCall("DELETE", `/v2/${name}/manifests/${digest}`);
        if (del.status !== 202 && del.status !== 404) throw new Error(`ECR stand-in: DELETE ${name}@${digest} answered HTTP ${del.status}: ${del.body}`);
    }
}

export interface RepositoryRecord extends Props {
    name: string;
    region: string;
    registryId: string;
    repositoryUrl: string;
    imageTagMutability: string;
    scanOnPush: boolean;
    encryption: { encryptionType: string; kmsKey: string };
    tags: Record<string, string>;
    lifecyclePolicy?: string;
}

/** What CreateRepository / PutImageScanningConfiguration / TagResource leave in the repository. */
function held(inputs: Props): Pick<RepositoryRecord, "imageTagMutability" | "scanOnPush" | "encryption" | "tags"> {
    const scanning = inputs.imageScanningConfiguration as Props | undefined;
    const encryption = (inputs.encryptionConfigurations as Props[] | undefined)?.[0] ?? {};
    return {
        imageTagMutability: str(inputs, "imageTagMutability") ?? "MUTABLE",
        scanOnPush: scanning?.scanOnPush === true,
        encryption: { encryptionType: str(encryption, "encryptionType") ?? "AES256", kmsKey: str(encryption, "kmsKey") ?? "" },
        tags: (inputs.tags as Record<string, string> | undefined) ?? {},
    };
}

function repositoryCall(operation: string, name: string): Call {
    return { subject: `ECR Repository (${name})`, service: "ECR", operation };
}

export const repository: ResourceModule = {
    type: "aws:ecr/repository:Repository",
    forceNew: REPOSITORY_FORCE_NEW,
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const name = required(inputs, "name", "aws:ecr/repository:Repository");
        const key = `${region}/${name}`;
        const table = op.db.table<RepositoryRecord>(REPOSITORIES);
        if (table[key]) throw refuse(RULES.repositoryName, repositoryCall("CreateRepository", name));
        const repositoryUrl = `${ecrRegistry().host}/${name}`;
        const record: RepositoryRecord = { name, region, registryId: ACCOUNT_ID, repositoryUrl, ...held(inputs) };
        table[key] = record;
        return { id: name, outs: repositoryOutputs(inputs, record) };
    },
    read(op, id, state) {
        const record = op.db.table<RepositoryRecord>(REPOSITORIES)[`${regionOf(op, state)}/${id}`];
        return record ? { ...state, ...repositoryOutputs(state, record) } : undefined;
    },
    update(op, id, olds, news) {
        const key = `${regionOf(op, olds)}/${id}`;
        const record = op.db.table<RepositoryRecord>(REPOSITORIES)[key];
        Object.assign(record, held(news));
        return repositoryOutputs(news, record);
    },
    importInputs(op, id) {
        // What DescribeRepositories and ListTagsForResource return (REPOSITORY: resourceRepositoryRead),
        // less defaults; force_delete is no property of the repository, so an import never has it.
        const record = op.db.table<RepositoryRecord>(REPOSITORIES)[`${regionOf(op)}/${id}`];
        const encryption = record.encryption.kmsKey ? record.encryption : { encryptionType: record.encryption.encryptionType };
        return {
            name: record.name,
            encryptionConfigurations: [encryption],
            ...(record.imageTagMutability !== "MUTABLE" ? { imageTagMutability: record.imageTagMutability } : {}),
            ...(record.scanOnPush ? { imageScanningConfiguration: { scanOnPush: true } } : {}),
            ...(Object.keys(record.tags).length > 0 ? { tags: record.tags } : {}),
        };
    },
    delete(op, id, state) {
        const key = `${regionOf(op, state)}/${id}`;
        const table = op.db.table<RepositoryRecord>(REPOSITORIES);
        if (!table[key]) return;
        if (repositoryTags(id).length > 0) {
            if (state.forceDelete !== true) throw refuse(RULES.notEmpty, repositoryCall("DeleteRepository", id));
            deleteImages(id);
        }
        delete table[key];
    },
};

function repositoryOutputs(inputs: Props, record: RepositoryRecord): Props {
    return {
        ...inputs,
        arn: arn("ecr", record.region, `repository/${record.name}`),
        encryptionConfigurations: [record.encryption],
        forceDelete: inputs.forceDelete ?? false,
        imageScanningConfiguration: { scanOnPush: record.scanOnPush },
        imageTagMutability: record.imageTagMutability,
        imageTagMutabilityExclusionFilters: inputs.imageTagMutabilityExclusionFilters ?? [],
        name: record.name,
        region: record.region,
        registryId: record.registryId,
        repositoryUrl: record.repositoryUrl,
        tags: record.tags,
        tagsAll: record.tags,
    };
}

export const lifecyclePolicy: ResourceModule = {
    type: "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    forceNew: LIFECYCLE_FORCE_NEW,
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const name = required(inputs, "repository", "aws:ecr/lifecyclePolicy:LifecyclePolicy");
        const record = op.db.table<RepositoryRecord>(REPOSITORIES)[`${region}/${name}`];
        if (!record) throw refuse(RULES.repositoryNotFound, { subject: `ECR Lifecycle Policy (${name})`, service: "ECR", operation: "PutLifecyclePolicy" });
        record.lifecyclePolicy = required(inputs, "policy", "aws:ecr/lifecyclePolicy:LifecyclePolicy");
        return { id: name, outs: { ...inputs, region, registryId: record.registryId } };
    },
    read(op, id, state) {
        return op.db.table<RepositoryRecord>(REPOSITORIES)[`${regionOf(op, state)}/${id}`]?.lifecyclePolicy !== undefined ? state : undefined;
    },
    update(_op, _id, olds, news) {
        // Every input forces a new policy; nothing is updated in place.
        return { ...olds, ...news };
    },
    delete(op, id, state) {
        // A policy whose repository is gone is gone too (LIFECYCLE: resourceLifecyclePolicyDelete).
        const record = op.db.table<RepositoryRecord>(REPOSITORIES)[`${regionOf(op, state)}/${id}`];
        if (record) delete record.lifecyclePolicy;
    },
};

/**
 * `aws.ecr.getRepository` (repository_data_source.go: dataSourceRepositoryRead): DescribeRepositories
 * by name; one that is not there fails as RULES.lookupNotFound. `mostRecentImageTags` is left out:
 * the stand-in registry keeps no push times to order tags by.
 */
export const getRepository: InvokeFn = (op: Op, args: Props) => {
    const region = regionOf(op, args);
    const name = required(args, "name", "aws:ecr/getRepository:getRepository");
    const record = op.db.table<RepositoryRecord>(REPOSITORIES)[`${region}/${name}`];
    if (!record) throw refuse(RULES.lookupNotFound, repositoryCall("DescribeRepositories", name), { name });
    return {
        arn: arn("ecr", record.region, `repository/${record.name}`),
        encryptionConfigurations: [record.encryption],
        id: record.name,
        imageScanningConfigurations: [{ scanOnPush: record.scanOnPush }],
        imageTagMutability: record.imageTagMutability,
        imageTagMutabilityExclusionFilters: [],
        name: record.name,
        region: record.region,
        registryId: record.registryId,
        repositoryUrl: record.repositoryUrl,
        tags: record.tags,
    };
};

/** 12 hours, as ECR's tokens (API GetAuthorizationToken: "The authorization token is valid for 12 hours"). */
const TOKEN_HOURS = 12;

export const getAuthorizationToken: InvokeFn = (op: Op, args: Props) => {
    const region = regionOf(op, args);
    const { host, password } = ecrRegistry();
    return {
        authorizationToken: Buffer.from(`AWS:${password}`).toString("base64"),
        expiresAt: new Date(op.now() + TOKEN_HOURS * 3_600_000).toISOString(),
        id: region,
        password,
        proxyEndpoint: `https://${host}`,
        region,
        registryId: str(args, "registryId") ?? ACCOUNT_ID,
        userName: "AWS",
    };
};
