/**
 * Waiting for Google Cloud APIs that this `up` enabled to answer. An API enabled moments ago can
 * still answer 403 PERMISSION_DENIED, reason SERVICE_DISABLED ("… has not been used in project …
 * before or it is disabled. … If you enabled this API recently, wait a few minutes for the action to
 * propagate to our systems and retry"), and the Google provider does not retry that error (its
 * default retry predicates: terraform-provider-google google/transport/error_retry_predicates.go).
 * So a fresh project's first `up` waits here, polling one cheap read of each API, before anything
 * that uses them is created. Plain async functions: tests run them against a loopback server.
 */

/** One read per API that answers once the API serves this project (any answer but SERVICE_DISABLED). */
export const PROBES: Readonly<Record<string, { readonly configKey: string; readonly base: string; readonly path: (project: string, region: string) => string }>> = {
    "cloudresourcemanager.googleapis.com": { configKey: "resourceManagerCustomEndpoint", base: "https://cloudresourcemanager.googleapis.com/v1/", path: (p) => `projects/${p}` },
    "run.googleapis.com": { configKey: "cloudRunV2CustomEndpoint", base: "https://run.googleapis.com/v2/", path: (p, r) => `projects/${p}/locations/${r}/services?pageSize=1` },
    "artifactregistry.googleapis.com": { configKey: "artifactRegistryCustomEndpoint", base: "https://artifactregistry.googleapis.com/v1/", path: (p, r) => `projects/${p}/locations/${r}/repositories?pageSize=1` },
    "secretmanager.googleapis.com": { configKey: "secretManagerCustomEndpoint", base: "https://secretmanager.googleapis.com/v1/", path: (p) => `projects/${p}/secrets?pageSize=1` },
    "iam.googleapis.com": { configKey: "iamCustomEndpoint", base: "https://iam.googleapis.com/v1/", path: (p) => `projects/${p}/serviceAccounts?pageSize=1` },
    "monitoring.googleapis.com": { configKey: "monitoringCustomEndpoint", base: "https://monitoring.googleapis.com/v3/", path: (p) => `projects/${p}/uptimeCheckConfigs?pageSize=1` },
};

export interface ApisInputs {
    readonly project: string;
    readonly region: string;
    readonly services: readonly string[];
    /** Each API's base URL: the Google provider's `<api>CustomEndpoint` where set, else Google's. */
    readonly endpoints: Readonly<Record<string, string>>;
    /** The gcloud access token of whoever runs `up` (a secret input; a change of it alone changes nothing). */
    readonly accessToken: string;
    /** @default 600 */
    readonly timeoutSeconds?: number;
}

export interface ApisOutputs extends ApisInputs {
    /** Seconds the APIs took to answer, by service (0: at once). */
    readonly waitedSeconds: Readonly<Record<string, number>>;
}

export interface Clock {
    readonly now: () => number;
    readonly sleep: (ms: number) => Promise<void>;
}

const realClock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

/** Whether an answer says the API is not (yet) on for the project. */
export function disabled(status: number, body: string): boolean {
    return status === 403 && /SERVICE_DISABLED|has not been used in project|is disabled/.test(body);
}

/** Polls one API until it answers, with backoff (2 s doubling to 20 s), or throws at the deadline. */
export async function waitFor(service: string, inputs: ApisInputs, clock: Clock = realClock): Promise<number> {
    const probe = PROBES[service];
    if (!probe) throw new Error(`no probe for ${service}: onedigest knows ${Object.keys(PROBES).join(", ")}`);
    const url = `${(inputs.endpoints[service] ?? probe.base).replace(/\/?$/, "/")}${probe.path(inputs.project, inputs.region)}`;
    const started = clock.now();
    const deadline = started + (inputs.timeoutSeconds ?? 600) * 1000;
    let delay = 2000;
    let last = "";
    for (;;) {
        try {
            const res = await fetch(url, { headers: { Authorization: `Bearer ${inputs.accessToken}` }, signal: AbortSignal.timeout(15_000) });
            const body = await res.text();
            if (!disabled(res.status, body)) return Math.round((clock.now() - started) / 1000);
            last = `HTTP ${res.status}: ${body.slice(0, 200)}`;
        } catch (err) {
            last = String(err);
        }
        if (clock.now() + delay > deadline) {
            throw new Error(
                `${service} does not answer in project ${inputs.project} ${Math.round((clock.now() - started) / 1000)} s after it was enabled (${last}). ` +
                    `Check it is enabled (gcloud services list --enabled --project ${inputs.project}) and run pulumi up again.`,
            );
        }
        await clock.sleep(delay);
        delay = Math.min(delay * 2, 20_000);
    }
}

/** Waits for every API, in parallel. */
export async function waitForAll(inputs: ApisInputs, services: readonly string[] = inputs.services, clock: Clock = realClock): Promise<ApisOutputs> {
    const waited = await Promise.all(services.map(async (s) => [s, await waitFor(s, inputs, clock)] as const));
    return { ...inputs, waitedSeconds: Object.fromEntries(waited) };
}

/** Only a new API (or project, or region) is waited for again; a new token or endpoint changes nothing. */
export function diffApis(olds: ApisInputs, news: ApisInputs): { changes: boolean; added: string[] } {
    const moved = olds.project !== news.project || olds.region !== news.region;
    const added = moved ? [...news.services] : news.services.filter((s) => !olds.services.includes(s));
    return { changes: added.length > 0, added };
}
