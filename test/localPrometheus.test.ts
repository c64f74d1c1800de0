/**
 * The local target's Prometheus, as the Docker engine would receive it: the private network the app
 * and Prometheus share, the image pinned by digest (or ONEDIGEST_PROMETHEUS_IMAGE's), the scrape
 * configuration and the three alert rules from `onedigest:alerts`, loopback-only ports, and the
 * `dashboard` the deployment exports. Bad `onedigest:local` values are refused with the fix.
 */
import * as assert from "assert";

import { PROMETHEUS_IMAGE, alertRules, metricsPortOf, prometheusConfig, prometheusImage, prometheusSettings, rateWindow } from "../providers/localMonitoring";
import { configError } from "./helpers";
import { reveal, runProgram, type ProgramRun } from "./mocks";

const DEFAULTS = { errorRatePercent: 5, latencyP99Ms: 1000, unhealthyMinutes: 3 };

type Upload = { file: string; content: string };

function containers(run: ProgramRun): { app: Record<string, unknown>; prometheus: Record<string, unknown> } {
    // By name: the two register in whichever order their inputs resolve.
    const all = run.ofType("docker:index/container:Container").map((c) => reveal(c.inputs) as Record<string, unknown>);
    assert.strictEqual(all.length, 2);
    const prometheus = all.find((c) => String(c.name).endsWith("-prometheus"));
    const app = all.find((c) => c !== prometheus);
    assert.ok(app && prometheus, "the app's container and Prometheus's");
    return { app, prometheus };
}

function uploaded(prometheus: Record<string, unknown>, file: string): Record<string, unknown> {
    const found = (prometheus.uploads as Upload[]).find((u) => u.file === file);
    assert.ok(found, `${file} is uploaded`);
    return JSON.parse(found.content) as Record<string, unknown>;
}

describe("local: Prometheus beside the app", () => {
    it("the app and Prometheus share one private network; only the app's port and Prometheus's are published, on loopback", async () => {
        const run = await runProgram({ targets: ["local"] });
        const [network] = run.ofType("docker:index/network:Network");
        assert.deepStrictEqual(network.inputs, { name: "onedigest-test-net", driver: "bridge" });
        const { app, prometheus } = containers(run);
        assert.deepStrictEqual(app.networksAdvanced, [{ name: "onedigest-test-net", aliases: ["app"] }]);
        assert.deepStrictEqual(app.ports, [{ internal: 8080, external: 8080, ip: "127.0.0.1" }], "9100 is never published");
        assert.strictEqual(prometheus.name, "onedigest-test-prometheus");
        assert.deepStrictEqual(prometheus.networksAdvanced, [{ name: "onedigest-test-net" }]);
        assert.deepStrictEqual(prometheus.ports, [{ internal: 9090, external: 9090, ip: "127.0.0.1" }]);
        assert.deepStrictEqual(prometheus.command, ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus", "--storage.tsdb.retention.time=1d", "--web.listen-address=:9090"]);
        assert.deepStrictEqual(prometheus.capabilities, { drops: ["ALL"] });
        assert.deepStrictEqual(prometheus.labels, [{ label: "onedigest.role", value: "monitor" }], "not a deployment: the policy pack's one-image-id leaves it out");
        const [image] = run.ofType("docker:index/remoteImage:RemoteImage");
        assert.deepStrictEqual(image.inputs, { name: prometheusImage(), keepLocally: true });
        assert.strictEqual(prometheus.image, run.mocks.state.get(image.name)?.imageId, "Prometheus runs the image pulled (or found) by that reference");
        const deployments = run.outputs.deployments as Record<string, { dashboard: string }>;
        assert.strictEqual(deployments.local.dashboard, "http://127.0.0.1:9090");
        // Side by side with the app, not after it: `up` starts both at once and `destroy` stops both at once.
        const names = run.ofType("docker:index/container:Container").map((c) => c.name);
        const [prometheusName, appName] = [names.find((n) => n.endsWith("-prometheus")) ?? "", names.find((n) => !n.endsWith("-prometheus")) ?? ""];
        assert.ok(prometheusName && appName, names.join(", "));
        assert.deepStrictEqual((run.mocks.dependencies.get(prometheusName) ?? []).filter((d) => d === appName), []);
        assert.deepStrictEqual((run.mocks.dependencies.get(appName) ?? []).filter((d) => d === prometheusName), []);
    });

    it("is pinned by digest, and ONEDIGEST_PROMETHEUS_IMAGE replaces it (a mirror, the tests' stand-in)", () => {
        assert.match(PROMETHEUS_IMAGE, /^prom\/prometheus:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
        assert.strictEqual(prometheusImage({}), PROMETHEUS_IMAGE);
        assert.strictEqual(prometheusImage({ ONEDIGEST_PROMETHEUS_IMAGE: "" }), PROMETHEUS_IMAGE);
        assert.strictEqual(prometheusImage({ ONEDIGEST_PROMETHEUS_IMAGE: "mirror/prometheus@sha256:1" }), "mirror/prometheus@sha256:1");
    });

    it("scrapes the app by its alias at the metrics port, every scrapeSeconds; the rules' thresholds and `for` are the stack's", async () => {
        const alerts = { errorRatePercent: 2.5, latencyP99Ms: 300, unhealthyMinutes: 5 };
        const run = await runProgram({ targets: ["local"], alerts, local: { scrapeSeconds: 30 } });
        const { prometheus } = containers(run);
        assert.deepStrictEqual(uploaded(prometheus, "/etc/prometheus/prometheus.yml"), {
            global: { scrape_interval: "30s", evaluation_interval: "30s", scrape_timeout: "10s" },
            rule_files: ["/etc/prometheus/onedigest-rules.yml"],
            scrape_configs: [{ job_name: "app", metrics_path: "/metrics", static_configs: [{ targets: ["app:9100"] }] }],
        });
        const served = 'job="app",route!="/metrics"';
        assert.deepStrictEqual(uploaded(prometheus, "/etc/prometheus/onedigest-rules.yml"), {
            groups: [
                {
                    name: "onedigest",
                    rules: [
                        { alert: "AppDown", expr: 'up{job="app"} == 0', for: "300s", labels: { severity: "page" }, annotations: { summary: "The app's metrics port has not answered Prometheus's scrapes." } },
                        {
                            alert: "AppFailing",
                            expr: `100 * sum(rate(http_requests_total{${served},status=~"5.."}[120s])) / sum(rate(http_requests_total{${served}}[120s])) > 2.5`,
                            for: "300s",
                            labels: { severity: "page" },
                            annotations: { summary: "More than 2.5% of requests answered 5xx." },
                        },
                        {
                            alert: "AppSlow",
                            expr: `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${served}}[120s]))) > 0.3`,
                            for: "300s",
                            labels: { severity: "page" },
                            annotations: { summary: "The 99th percentile of response time is above 300 ms." },
                        },
                    ],
                },
            ],
        });
    });

    it("alertForSeconds replaces the rules' `for`; the rate window is four scrapes; METRICS_PORT in the app's env moves the target", () => {
        assert.deepStrictEqual(prometheusSettings({ scrapeSeconds: 1, alertForSeconds: 2 }, DEFAULTS), { scrapeSeconds: 1, forSeconds: 2 });
        assert.deepStrictEqual(prometheusSettings({ scrapeSeconds: 15 }, DEFAULTS), { scrapeSeconds: 15, forSeconds: 180 });
        assert.strictEqual(rateWindow({ scrapeSeconds: 15, forSeconds: 180 }), "60s");
        assert.match(alertRules(DEFAULTS, { scrapeSeconds: 1, forSeconds: 0 }), /"for": "0s"/);
        assert.strictEqual(metricsPortOf({}), 9100);
        assert.strictEqual(metricsPortOf({ METRICS_PORT: "9200" }), 9200);
        assert.match(prometheusConfig({ scrapeSeconds: 5, forSeconds: 10 }, 9200), /"targets": \[\s*"app:9200"\s*\]/);
        assert.match(prometheusConfig({ scrapeSeconds: 5, forSeconds: 10 }, 9100), /"scrape_timeout": "5s"/);
    });

    it("other ports and intervals flow from onedigest:local", async () => {
        const run = await runProgram({ targets: ["local"], local: { port: 8081, prometheusPort: 9191, scrapeSeconds: 5, alertForSeconds: 20 } });
        const { prometheus } = containers(run);
        assert.deepStrictEqual(prometheus.ports, [{ internal: 9090, external: 9191, ip: "127.0.0.1" }]);
        assert.match(JSON.stringify(uploaded(prometheus, "/etc/prometheus/onedigest-rules.yml")), /"for":"20s"/);
        assert.strictEqual((run.outputs.deployments as Record<string, { dashboard: string }>).local.dashboard, "http://127.0.0.1:9191");
    });

    it("refuses bad values before any resource, naming the key, the value, what is allowed and the fix", () => {
        const error = (local: Record<string, unknown>) => configError({ targets: ["local"], local: { port: 8080, memoryMb: 512, prometheusPort: 9090, scrapeSeconds: 15, ...local } });
        assert.strictEqual(error({ prometheusPort: 8080 }), "onedigest:local.prometheusPort: got 8080; expected a port other than onedigest:local.port (8080): both are published on 127.0.0.1. Fix: pulumi config set --path onedigest:local.prometheusPort 9090");
        assert.strictEqual(error({ port: 9090 }), "onedigest:local.prometheusPort: got 9090; expected a port other than onedigest:local.port (9090): both are published on 127.0.0.1. Fix: pulumi config set --path onedigest:local.prometheusPort 9091");
        assert.strictEqual(error({ scrapeSeconds: 0 }), "onedigest:local.scrapeSeconds: got 0; expected an integer from 1 to 300. Fix: pulumi config set --path onedigest:local.scrapeSeconds 15");
        assert.strictEqual(error({ alertForSeconds: -1 }), "onedigest:local.alertForSeconds: got -1; expected an integer from 0 to 86400. Fix: pulumi config set --path onedigest:local.alertForSeconds 180");
    });
});
