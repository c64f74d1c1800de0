/**
 * S3: `aws:s3/bucket:Bucket` (names are global, across every account), `aws:s3/bucketObjectv2:BucketObjectv2`
 * and a bucket's ownership controls, public access block and default encryption. A bucket record
 * holds its objects (key → ETag) and its configurations.
 */
import { createHash } from "crypto";

import { type ForceNew, type Op, type Props, type ResourceModule, type Rule } from "../framework";
import { autoName, canonical, prefixedUniqueId, refuse, regionOf, required, str, type Call } from "./common";

const BUCKET = "internal/service/s3/bucket.go";
const OBJECT = "internal/service/s3/object.go";
const OWNERSHIP = "internal/service/s3/bucket_ownership_controls.go";
const ACCESS_BLOCK = "internal/service/s3/bucket_public_access_block.go";
const ENCRYPTION = "internal/service/s3/bucket_server_side_encryption_configuration.go";
/** read_file commit of ENCRYPTION the lines below are from. */
export const ENCRYPTION_COMMIT = "01606926a0c0ab9174aec440f976a48b0baee722";
const ERRORS = "https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList";

export const RULES = {
    bucketOwned: {
        rule: "a bucket name is unique across all of S3; creating one this account already holds fails",
        error: { status: 409, code: "BucketAlreadyOwnedByYou", message: "Your previous request to create the named bucket succeeded and you already own it." },
        source: `${ERRORS} (BucketAlreadyOwnedByYou); https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html`,
    },
    bucketNotEmpty: {
        rule: "a bucket that holds objects is deleted only when emptied first (force_destroy)",
        error: { status: 409, code: "BucketNotEmpty", message: "The bucket you tried to delete is not empty." },
        source: `${ERRORS} (BucketNotEmpty); ${BUCKET} resourceBucketDelete (empties the bucket when force_destroy)`,
    },
    noSuchBucket: {
        rule: "objects and bucket configurations need their bucket",
        error: { status: 404, code: "NoSuchBucket", message: "The specified bucket does not exist." },
        source: `${ERRORS} (NoSuchBucket)`,
    },
} as const satisfies Record<string, Rule>;

export const BUCKET_FORCE_NEW: readonly ForceNew[] = [
    { field: "bucket", source: `${BUCKET}:96` },
    { field: "bucketPrefix", source: `${BUCKET}:111` },
];
export const OBJECT_FORCE_NEW: readonly ForceNew[] = [
    { field: "bucket", source: `${OBJECT}:83` },
    { field: "key", source: `${OBJECT}:160` },
];
export const OWNERSHIP_FORCE_NEW: readonly ForceNew[] = [{ field: "bucket", source: `${OWNERSHIP}:42` }];
export const ACCESS_BLOCK_FORCE_NEW: readonly ForceNew[] = [{ field: "bucket", source: `${ACCESS_BLOCK}:49` }];
export const ENCRYPTION_FORCE_NEW: readonly ForceNew[] = [
    { field: "bucket", source: `${ENCRYPTION}:42` },
    { field: "expectedBucketOwner", source: `${ENCRYPTION}:48` },
];

export const BUCKETS = "s3.buckets";

export interface ObjectRecord extends Props {
    etag: string;
    contentType?: string;
    /** SHA-256 of `content`, or of the files' canonical JSON. */
    sha256: string;
    /** The files of a `source` archive (a text asset's under ""), by name. */
    files?: Record<string, string>;
}
export interface BucketRecord extends Props {
    name: string;
    region: string;
    objects: Record<string, ObjectRecord>;
    ownershipControls?: unknown;
    publicAccessBlock?: unknown;
    encryption?: unknown;
}

/** S3 website hosted zone IDs by region (AWS General Reference, Amazon S3 endpoints). */
const S3_ZONES: Readonly<Record<string, string>> = { "eu-west-1": "Z1BKCTXD74EZPE", "us-east-1": "Z3AQBSTGFYJSTF", "eu-central-1": "Z21DNDUVLTQW6Q" };

function s3Call(operation: string, subject: string): Call {
    return { subject, service: "S3", operation };
}

function bucketOf(op: Op, name: string, call: Call): BucketRecord {
    const record = op.db.table<BucketRecord>(BUCKETS)[name];
    if (!record) throw refuse(RULES.noSuchBucket, call);
    return record;
}

export const bucket: ResourceModule = {
    type: "aws:s3/bucket:Bucket",
    forceNew: BUCKET_FORCE_NEW,
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const prefix = str(inputs, "bucketPrefix");
        const name = str(inputs, "bucket") ?? (prefix !== undefined ? prefixedUniqueId(op, prefix) : autoName(op, 63).toLowerCase());
        const table = op.db.table<BucketRecord>(BUCKETS);
        if (table[name]) throw refuse(RULES.bucketOwned, s3Call("CreateBucket", `S3 Bucket (${name})`));
        table[name] = { name, region, objects: {} };
        return {
            id: name,
            outs: {
                ...inputs,
                arn: `arn:aws:s3:::${name}`,
                bucket: name,
                bucketDomainName: `${name}.s3.amazonaws.com`,
                bucketPrefix: prefix ?? "",
                bucketRegionalDomainName: `${name}.s3.${region}.amazonaws.com`,
                forceDestroy: inputs.forceDestroy ?? false,
                hostedZoneId: S3_ZONES[region] ?? "Z1BKCTXD74EZPE",
                objectLockEnabled: inputs.objectLockEnabled ?? false,
                region,
                requestPayer: "BucketOwner",
                tags: inputs.tags ?? {},
                tagsAll: inputs.tags ?? {},
            },
        };
    },
    read(op, id, state) {
        return op.db.table(BUCKETS)[id] ? state : undefined;
    },
    update(_op, _id, olds, news) {
        return { ...olds, ...news };
    },
    delete(op, id, state) {
        const table = op.db.table<BucketRecord>(BUCKETS);
        const record = table[id];
        if (!record) return;
        if (Object.keys(record.objects).length > 0 && state.forceDestroy !== true) throw refuse(RULES.bucketNotEmpty, s3Call("DeleteBucket", `S3 Bucket (${id})`));
        delete table[id];
    },
};

/** Pulumi's wire signatures of an asset and an archive (@pulumi/pulumi runtime/rpc: specialAssetSig, specialArchiveSig). */
const SIG = "4dabf18193072939515e22adb298388d";
const ASSET = "c44067f5952c0a294b673a41bacd8c17";
const ARCHIVE = "0def7320c3a5731c473e5ecbe6d01bc7";

/**
 * The files of an object's `source`: a text asset is one file, an archive of text assets is its
 * files by name (the provider uploads the archive as a zip). Other sources (paths, URIs) are not
 * used by onedigest and fail loudly.
 */
function sourceFiles(source: unknown): Record<string, string> {
    const value = source as Props;
    if (value?.[SIG] === ASSET && typeof value.text === "string") return { "": value.text };
    if (value?.[SIG] === ARCHIVE && typeof value.assets === "object" && value.assets !== null) {
        return Object.fromEntries(
            Object.entries(value.assets as Props).map(([name, asset]) => {
                const text = (asset as Props)?.text;
                if (typeof text !== "string") throw new Error(`aws:s3/bucketObjectv2: the fake takes archives of text assets only (${name})`);
                return [name, text];
            }),
        );
    }
    throw new Error("aws:s3/bucketObjectv2: the fake takes `content`, a text asset or an archive of text assets as the object's source");
}

function objectRecord(inputs: Props): ObjectRecord {
    const files = inputs.source !== undefined ? sourceFiles(inputs.source) : undefined;
    const content = files ? canonical(files) : (str(inputs, "content") ?? str(inputs, "contentBase64") ?? "");
    return {
        etag: createHash("md5").update(content).digest("hex"),
        contentType: str(inputs, "contentType"),
        sha256: createHash("sha256").update(content).digest("hex"),
        ...(files ? { files } : {}),
    };
}

export const bucketObjectv2: ResourceModule = {
    type: "aws:s3/bucketObjectv2:BucketObjectv2",
    forceNew: OBJECT_FORCE_NEW,
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const bucketName = required(inputs, "bucket", "aws:s3/bucketObjectv2:BucketObjectv2");
        const key = required(inputs, "key", "aws:s3/bucketObjectv2:BucketObjectv2");
        const record = bucketOf(op, bucketName, s3Call("PutObject", `S3 Object (${key})`));
        record.objects[key] = objectRecord(inputs);
        return { id: key, outs: objectOutputs(inputs, region, bucketName, key, record.objects[key]) };
    },
    read(op, id, state) {
        return op.db.table<BucketRecord>(BUCKETS)[String(state.bucket)]?.objects[id] ? state : undefined;
    },
    update(op, id, _olds, news) {
        const bucketName = String(news.bucket);
        const record = bucketOf(op, bucketName, s3Call("PutObject", `S3 Object (${id})`));
        record.objects[id] = objectRecord(news);
        return objectOutputs(news, regionOf(op, news), bucketName, id, record.objects[id]);
    },
    delete(op, id, state) {
        const record = op.db.table<BucketRecord>(BUCKETS)[String(state.bucket)];
        if (record) delete record.objects[id];
    },
};

function objectOutputs(inputs: Props, region: string, bucketName: string, key: string, record: ObjectRecord): Props {
    return {
        ...inputs,
        arn: `arn:aws:s3:::${bucketName}/${key}`,
        bucketKeyEnabled: inputs.bucketKeyEnabled ?? false,
        contentType: record.contentType ?? "binary/octet-stream",
        etag: record.etag,
        forceDestroy: inputs.forceDestroy ?? false,
        region,
        serverSideEncryption: inputs.serverSideEncryption ?? "AES256",
        storageClass: "STANDARD",
        tags: inputs.tags ?? {},
        tagsAll: inputs.tags ?? {},
        // An unversioned bucket gives no version ID.
        versionId: "",
    };
}

/** A bucket configuration kept on the bucket record under `field`; its ID is the bucket's name. */
function bucketConfiguration(type: string, field: "ownershipControls" | "publicAccessBlock" | "encryption", forceNew: readonly ForceNew[], operation: string): ResourceModule {
    return {
        type,
        forceNew,
        create(op, inputs) {
            const region = regionOf(op, inputs);
            const bucketName = required(inputs, "bucket", type);
            bucketOf(op, bucketName, s3Call(operation, `S3 Bucket (${bucketName})`))[field] = inputs;
            return { id: bucketName, outs: { ...inputs, region } };
        },
        read(op, id, state) {
            return op.db.table<BucketRecord>(BUCKETS)[id]?.[field] !== undefined ? state : undefined;
        },
        update(op, id, olds, news) {
            bucketOf(op, id, s3Call(operation, `S3 Bucket (${id})`))[field] = news;
            return { ...olds, ...news };
        },
        delete(op, id) {
            const record = op.db.table<BucketRecord>(BUCKETS)[id];
            if (record) delete record[field];
        },
    };
}

export const bucketOwnershipControls = bucketConfiguration("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "ownershipControls", OWNERSHIP_FORCE_NEW, "PutBucketOwnershipControls");
export const bucketPublicAccessBlock = bucketConfiguration("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "publicAccessBlock", ACCESS_BLOCK_FORCE_NEW, "PutPublicAccessBlock");
export const bucketServerSideEncryptionConfiguration = bucketConfiguration(
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "encryption",
    ENCRYPTION_FORCE_NEW,
    "PutBucketEncryption",
);
