/**
 * What every service of the fake Google Cloud shares: the rules every API applies first (the
 * project and location a call is for, and that the service's API is enabled in that project), how
 * refusals read (as the Terraform provider reports a `googleapi.Error`), and project numbers.
 */
import { createHash } from "crypto";

import { CloudError, type Db, type Op, type Operation, type Props, type Rule } from "../framework";

export const RULES = {
    serviceDisabled: {
        rule: "a call to a service whose API is not enabled in the project is refused",
        error: {
            status: 403,
            code: "PERMISSION_DENIED",
            message:
                "{title} has not been used in project {number} before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/{service}/overview?project={number} then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.",
        },
        source: 'https://cloud.google.com/service-usage/docs/troubleshooting ("service not enabled"); google/api/error_reason.proto SERVICE_DISABLED (ErrorInfo: consumer projects/<number>, service)',
    },
    projectRequired: {
        rule: "a resource needs a project: its own `project`, else the provider's",
        error: { status: 0, code: "provider", message: "project: required field is not set" },
        source: "google/tpgresource/field_helpers.go:326 (GetProjectFromSchema)",
    },
    locationRequired: {
        rule: "a regional resource needs a location: its own `location`, else the provider's `region`",
        error: { status: 0, code: "provider", message: "Unable to determine location: region/zone not configured in resource/provider config" },
        source: "google/tpgresource/regional_utils.go:52 (GetLocation)",
    },
} as const satisfies Record<string, Rule>;

/**
 * The Terraform provider every ForceNew row and provider rule cites, by `path:line`: the release
 * of hashicorp/terraform-provider-google that @pulumi/gcp 9.37.0 (published 2026-09-16) is the
 * closest to among the stored snapshot's tags, v7.45.0 (commit 6f756229ab21d14d238c6280d2255262e4cccfc4).
 */
export const TF_GOOGLE = "hashicorp/terraform-provider-google v7.45.0";

/**
 * The APIs a new project has enabled that the fake knows of; every other one must be enabled with
 * projects.Service. Source: https://cloud.google.com/service-usage/docs/enabled-service#default
 * ("Services enabled by default").
 */
export const DEFAULT_SERVICES = ["serviceusage.googleapis.com"] as const;

/** The services this fake knows, with the titles their errors use. */
export const SERVICE_TITLES: Readonly<Record<string, string>> = {
    "run.googleapis.com": "Cloud Run Admin API",
    "artifactregistry.googleapis.com": "Artifact Registry API",
    "secretmanager.googleapis.com": "Secret Manager API",
    "iam.googleapis.com": "Identity and Access Management (IAM) API",
    "serviceusage.googleapis.com": "Service Usage API",
    // As its SERVICE_DISABLED error names it (terraform-google-modules/terraform-google-sql-db#593).
    "monitoring.googleapis.com": "Cloud Monitoring API",
};

/** The table of enabled services: `<project>/<service>` → record. */
export const ENABLED_SERVICES = "serviceusage.services";

/**
 * A refusal as the Terraform provider prints it (googleapi.Error, google.golang.org/api/googleapi):
 * `Error creating Repository: googleapi: Error 409: <message>`, then `Details:` when the API sent
 * ErrorInfo, then `, <reason>` for the APIs that still send a legacy reason (IAM's alreadyExists).
 * Status 0: the provider's own error (no API call), printed as it is.
 */
export function formatError(err: CloudError, op: Operation): string {
    if (err.status === 0) return err.message;
    const google = err instanceof GoogleError ? err : undefined;
    const what = google?.what ?? (op.verb === "invoking" ? `Error calling ${op.kind}` : `Error ${op.verb} ${op.kind}`);
    const details = google?.details ? `\nDetails:\n${JSON.stringify(google.details, null, 2)}\n` : "";
    const reason = google?.reason ? `, ${google.reason}` : "";
    return `${what}: googleapi: Error ${err.status}: ${err.message}${details}${reason}`;
}

/** A CloudError with what googleapi.Error adds: ErrorInfo details, a legacy reason, the provider's own prefix. */
export class GoogleError extends CloudError {
    constructor(
        base: CloudError,
        readonly extra: { readonly details?: ReadonlyArray<Record<string, unknown>>; readonly reason?: string; readonly what?: string } = {},
    ) {
        super(base.status, base.code, base.message);
    }

    get details(): ReadonlyArray<Record<string, unknown>> | undefined {
        return this.extra.details;
    }

    get reason(): string | undefined {
        return this.extra.reason;
    }

    get what(): string | undefined {
        return this.extra.what;
    }
}

/** A project's number: stable per project ID, twelve digits like Google's. */
export function projectNumber(project: string): string {
    const n = BigInt(`0x${createHash("sha256").update(`project:${project}`).digest("hex").slice(0, 15)}`) % 900_000_000_000n;
    return String(n + 100_000_000_000n);
}

/** The resource's `project` input, else `gcp:project`. */
export function projectOf(op: Op, inputs: Props): string {
    const project = op.setting("project", inputs);
    if (!project) throw CloudError.of(RULES.projectRequired);
    return project;
}

/** The resource's `location` input, else `gcp:region`. */
export function locationOf(op: Op, inputs: Props): string {
    const location = op.setting("location", inputs) ?? op.config.region;
    if (!location) throw CloudError.of(RULES.locationRequired);
    return location;
}

export function serviceEnabled(db: Db, project: string, service: string): boolean {
    return (DEFAULT_SERVICES as readonly string[]).includes(service) || db.table(ENABLED_SERVICES)[`${project}/${service}`]?.state === "ENABLED";
}

/** Refuses the call unless `service` is enabled in `project`, as every Google API does. */
export function requireService(db: Db, project: string, service: string): void {
    if (serviceEnabled(db, project, service)) return;
    const number = projectNumber(project);
    throw new GoogleError(CloudError.of(RULES.serviceDisabled, { title: SERVICE_TITLES[service] ?? service, number, service }), {
        details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "SERVICE_DISABLED", domain: "googleapis.com", metadata: { consumer: `projects/${number}`, service } }],
    });
}

/** A string input, or undefined when it is absent. */
export function str(inputs: Props, key: string): string | undefined {
    const value = inputs[key];
    return typeof value === "string" ? value : undefined;
}

/** Google's timestamps: RFC 3339 with nanoseconds, UTC. */
export function timestamp(ms: number): string {
    return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z");
}

/** A stable random-looking string of `length` lowercase letters and digits, from `seed`. */
export function token(seed: string, length: number): string {
    const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    const bytes = createHash("sha256").update(seed).digest();
    return Array.from(bytes.subarray(0, length), (b) => alphabet[b % alphabet.length]).join("");
}

/** A string-valued object input (labels, annotations), or {} when absent. */
export function stringMap(inputs: Props, key: string): Record<string, string> {
    const value = inputs[key];
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, string>) : {};
}
