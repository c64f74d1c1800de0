/**
 * What the `local` target watches: a Prometheus beside the app on the stack's private Docker
 * network, scraping the app's metrics port (never published) and evaluating the same three alert
 * rules the cloud targets alarm on (down, failing, slow) from the stack's thresholds. Its UI and API
 * are published on 127.0.0.1 only. The files it reads are pure functions of the settings, so tests
 * read them without an engine. Metric names: app/onedigest_app/metrics.py (`http_requests_total`
 * and `http_request_duration_seconds` by method, route and status).
 */
import type { AlertSettings } from "./types";

/**
 * Prometheus v3.5.0 (a long-term support release), pinned by digest: the bits are the same on every
 * machine whatever the tag says later. ONEDIGEST_PROMETHEUS_IMAGE replaces it (a mirror, or the
 * tests' stand-in: nothing can be pulled on the test machines), as ONEDIGEST_BASE_IMAGE replaces
 * the app's base.
 */
export const PROMETHEUS_IMAGE = "prom/prometheus:v3.5.0@sha256:63805ebb8d2b3920190daf1cb14a60871b16fd38bed42b857a3182bc621f4996";

export function prometheusImage(env: Readonly<Record<string, string | undefined>> = process.env): string {
    return env.ONEDIGEST_PROMETHEUS_IMAGE || PROMETHEUS_IMAGE;
}

/** Where the image reads its configuration (the official image's CMD). */
export const CONFIG_FILE = "/etc/prometheus/prometheus.yml";
export const RULES_FILE = "/etc/prometheus/onedigest-rules.yml";
/** The port Prometheus listens on inside its container. */
export const PROMETHEUS_PORT = 9090;
/** The name the app answers to on the private network (its container name may change; this does not). */
export const APP_ALIAS = "app";
export const JOB = "app";
/**
 * The Docker label that says a container watches the app and is not a deployment of it: the policy
 * pack's one-image-id (policy/rules/images.ts) leaves its image out of the stack's one image ID.
 */
export const MONITOR_LABEL = { label: "onedigest.role", value: "monitor" } as const;

/** The app's metrics port: METRICS_PORT where the app's env sets it, else the app's default (app/onedigest_app/settings.py). */
export function metricsPortOf(env: Readonly<Record<string, string>>): number {
    const port = Number(env.METRICS_PORT ?? "9100");
    return Number.isInteger(port) ? port : 9100;
}

export interface PrometheusSettings {
    /** How often the app is scraped and the rules evaluated. */
    readonly scrapeSeconds: number;
    /** How long a condition must hold before its alert fires. */
    readonly forSeconds: number;
}

/** What the rules need of the local settings and the stack's thresholds. */
export function prometheusSettings(local: { scrapeSeconds: number; alertForSeconds?: number }, alerts: AlertSettings): PrometheusSettings {
    return { scrapeSeconds: local.scrapeSeconds, forSeconds: local.alertForSeconds ?? alerts.unhealthyMinutes * 60 };
}

/**
 * The rate window: four scrapes, so a rate always has samples to work with (Prometheus's own
 * advice for `rate`), never under a minute when scrapes are the default 15 s.
 */
export function rateWindow(s: PrometheusSettings): string {
    return `${s.scrapeSeconds * 4}s`;
}

/** Prometheus's configuration file: the one app target by its network alias, and the rules. YAML is a superset of JSON. */
export function prometheusConfig(s: PrometheusSettings, metricsPort: number): string {
    const every = `${s.scrapeSeconds}s`;
    return `${JSON.stringify(
        {
            global: { scrape_interval: every, evaluation_interval: every, scrape_timeout: `${Math.min(s.scrapeSeconds, 10)}s` },
            rule_files: [RULES_FILE],
            scrape_configs: [{ job_name: JOB, metrics_path: "/metrics", static_configs: [{ targets: [`${APP_ALIAS}:${metricsPort}`] }] }],
        },
        null,
        2,
    )}\n`;
}

/** The app's own requests: Prometheus's scrapes of /metrics are not traffic. */
const SERVED = `job="${JOB}",route!="/metrics"`;

/** The three rules, named as docs/monitoring.md has them. */
export function alertRules(alerts: AlertSettings, s: PrometheusSettings): string {
    const window = rateWindow(s);
    const rule = (alert: string, expr: string, summary: string) => ({ alert, expr, for: `${s.forSeconds}s`, labels: { severity: "page" }, annotations: { summary } });
    return `${JSON.stringify(
        {
            groups: [
                {
                    name: "onedigest",
                    rules: [
                        rule("AppDown", `up{job="${JOB}"} == 0`, "The app's metrics port has not answered Prometheus's scrapes."),
                        rule(
                            "AppFailing",
                            `100 * sum(rate(http_requests_total{${SERVED},status=~"5.."}[${window}])) / sum(rate(http_requests_total{${SERVED}}[${window}])) > ${alerts.errorRatePercent}`,
                            `More than ${alerts.errorRatePercent}% of requests answered 5xx.`,
                        ),
                        rule(
                            "AppSlow",
                            `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${SERVED}}[${window}]))) > ${alerts.latencyP99Ms / 1000}`,
                            `The 99th percentile of response time is above ${alerts.latencyP99Ms} ms.`,
                        ),
                    ],
                },
            ],
        },
        null,
        2,
    )}\n`;
}

/** Prometheus's command line after the image's entrypoint (/bin/prometheus). */
export function prometheusCommand(): string[] {
    return [
        `--config.file=${CONFIG_FILE}`,
        "--storage.tsdb.path=/prometheus",
        // A machine's own watch: a day of history is enough, and the disk stays small.
        "--storage.tsdb.retention.time=1d",
        `--web.listen-address=:${PROMETHEUS_PORT}`,
    ];
}
