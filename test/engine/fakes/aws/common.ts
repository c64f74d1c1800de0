/**
 * What every service of the fake AWS shares: the account, the region a call runs in, ARNs and
 * generated IDs, the names Pulumi generates for resources a program leaves unnamed, and how a
 * refusal reads — as the Terraform provider (aws-sdk-go-v2) reports an API error.
 *
 * ForceNew sources: every `source` in the services' FORCE_NEW tables is `path:line` in the stored
 * copy of hashicorp/terraform-provider-aws that was read for it (the v6 provider the @pulumi/aws
 * 7.x SDK bridges); the line is the `ForceNew: true` (or `RequiresReplace()`) of that field.
 */
import { createHash, randomBytes, randomUUID } from "crypto";

import { CloudError, isUnknown, requireEnv, type Op, type Operation, type Props, type Rule } from "../framework";

export const TF_AWS = "hashicorp/terraform-provider-aws";

/** The account every fake resource lives in (twelve digits, as AWS's). */
export const ACCOUNT_ID = "123456789012";

/**
 * A refusal with what the Terraform provider puts around an API error: the resource it was working
 * on (`ECR Repository (onedigest-prod)`), the service and operation the SDK names.
 */
export class AwsError extends CloudError {
    constructor(
        status: number,
        code: string,
        message: string,
        /** `ECR Repository (onedigest-prod)`: how the provider names the resource in its errors. */
        readonly subject: string,
        /** `ECR`, `Secrets Manager`, …: the SDK's service ID. */
        readonly service: string,
        /** `CreateRepository`: the API operation. */
        readonly operation: string,
    ) {
        super(status, code, message);
    }
}

/** Where an API error happened, for {@link refuse}. */
export interface Call {
    readonly subject: string;
    readonly service: string;
    readonly operation: string;
}

/** The error a rule row describes, raised by `call` (status 0: the provider refuses before any API call). */
export function refuse(rule: Rule, call: Call, values: Readonly<Record<string, string | number>> = {}): AwsError {
    const err = CloudError.of(rule, values);
    return new AwsError(err.status, err.code, err.message, call.subject, call.service, call.operation);
}

/**
 * How terraform-provider-aws reports a failed call: `creating ECR Repository (x): operation error
 * ECR: CreateRepository, https response error StatusCode: 400, RequestID: <uuid>,
 * RepositoryAlreadyExistsException: <message>` — sdkdiag.AppendErrorf around the SDK's
 * smithy.OperationError (github.com/aws/smithy-go, OperationError.Error; awshttp ResponseError).
 * A status of 0 is the provider's own refusal, in its own words.
 */
export function formatError(err: CloudError, op: Operation): string {
    if (err.status === 0) return err.message;
    if (!(err instanceof AwsError)) return `${op.verb} ${op.kind}: ${err.code}: ${err.message}`;
    const verb = op.verb === "invoking" ? "reading" : op.verb;
    return `${verb} ${err.subject}: operation error ${err.service}: ${err.operation}, https response error StatusCode: ${err.status}, RequestID: ${randomUUID()}, ${err.code}: ${err.message}`;
}

/** The region a call runs in: the resource's own `region` (v7 SDKs send one per resource), else `aws:region`. */
export function regionOf(op: Op, inputs: Props = {}): string {
    const region = op.setting("region", inputs);
    if (!region) throw new CloudError(0, "provider", "Missing region: set aws:region or the resource's region input");
    return region;
}

export function arn(service: string, region: string, resource: string, account: string = ACCOUNT_ID): string {
    return `arn:aws:${service}:${region}:${account}:${resource}`;
}

/** Lowercase hex of `bytes` random bytes: the tail of sg-…, sgr-… and load balancer ARNs. */
export function hexId(bytes: number): string {
    return randomBytes(bytes).toString("hex");
}

/** A stable hex of `text`, for IDs that must not change between calls (default VPC and subnets). */
export function stableHex(text: string, length: number): string {
    return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/**
 * The name Pulumi gives a resource whose program leaves it unnamed: the logical name, a dash and
 * seven random hex digits (pulumi-terraform-bridge: tfbridge AutoName → resource.NewUniqueHex).
 */
export function autoName(op: Op, max = 255): string {
    const suffix = `-${hexId(4).slice(0, 7)}`;
    return `${op.name.slice(0, max - suffix.length)}${suffix}`;
}

/**
 * A name from a prefix the way the Terraform provider makes one (`bucket_prefix`, `name_prefix`):
 * the prefix and a 26-character time-ordered suffix (terraform-plugin-sdk helper/id.PrefixedUniqueId,
 * UniqueIDSuffixLength = 26).
 */
export function prefixedUniqueId(op: Op, prefix: string): string {
    const stamp = new Date(op.now()).toISOString().replace(/\D/g, "").slice(0, 17);
    return `${prefix}${stamp}${hexId(5).slice(0, 9)}`;
}

/** A string input, or undefined when it is absent or not known yet. */
export function str(inputs: Props, key: string): string | undefined {
    const value = inputs[key];
    return typeof value === "string" && !isUnknown(value) ? value : undefined;
}

/** A string input the SDK requires; the fake refuses loudly when the program left it out. */
export function required(inputs: Props, key: string, type: string): string {
    const value = str(inputs, key);
    if (value === undefined || value === "") throw new CloudError(0, "provider", `${type}: the argument "${key}" is required, but no definition was found`);
    return value;
}

/** The loopback registry that stands in for ECR, named by the harness. */
export function ecrRegistry(): { host: string; password: string } {
    return { host: requireEnv("ONEDIGEST_FAKE_AWS_REGISTRY"), password: requireEnv("ONEDIGEST_FAKE_AWS_PASSWORD") };
}

/** JSON of a value with object keys sorted: how two JSON documents are compared for equality. */
export function canonical(value: unknown): string {
    const sort = (v: unknown): unknown =>
        Array.isArray(v) ? v.map(sort) : typeof v === "object" && v !== null ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Props)[k])])) : v;
    return JSON.stringify(sort(value));
}
