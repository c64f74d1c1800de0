/**
 * The local target's Prometheus through the real Pulumi CLI, engine and Docker provider: after `up`,
 * Prometheus's own API reports the app's target up and its request series, scraped over the stack's
 * private network from the metrics port no one publishes; a burst at a route that answers 5xx fires
 * the error-ratio alert; stopping the app fires the down alert; destroy removes Prometheus and the
 * network. The 5xx route is in a test-only image layer (FROM the stack's image, a module of this
 * test's own), never in the shipped app, run in the app's place under its network alias. Scrapes and
 * rule evaluation every second and a two-second `for` keep it short (onedigest:local.scrapeSeconds,
 * alertForSeconds); the thresholds are the stack's (Pulumi.yaml's defaults).
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";

import { ROOT } from "../mocks";
import { docker, dockerResult, freePort, waitFor } from "../pipeline/docker";
import { Stack, cliEnv, ok, tempDir } from "./cli";

const NAME = "engine-prom";
const APP = `${NAME}-${NAME}`; // scopedName: app name, then stack
const PROMETHEUS = `${APP}-prometheus`;
const NETWORK = `${APP}-net`;
const STAND_IN = `${NAME}-failing`;

/** A route that answers 500, added beside the shipped app's (the image's WORKDIR is /srv/app). */
const FAILING_MODULE = `from wsgi import app


@app.get("/test-only/fail")
def fail():
    return "failing on purpose", 500
`;

interface PromAlert {
    labels: { alertname: string };
    state: "pending" | "firing";
}

describe("real engine: the local target's Prometheus scrapes the app and its alerts fire", function () {
    let scratch = "";
    let stack: Stack | undefined;
    let prom = "";
    let appPort = 0;
    let standInPort = 0;

    const api = async <T>(route: string): Promise<T> => {
        const res = await fetch(`${prom}/api/v1/${route}`);
        assert.strictEqual(res.status, 200, `GET /api/v1/${route}`);
        return ((await res.json()) as { data: T }).data;
    };
    const firing = async (alertname: string): Promise<true | undefined> =>
        (await api<{ alerts: PromAlert[] }>("alerts")).alerts.some((a) => a.labels.alertname === alertname && a.state === "firing") ? true : undefined;

    before(async function () {
        assert.ok(process.env.DOCKER_HOST && process.env.ONEDIGEST_PROMETHEUS_IMAGE, "no engine or Prometheus stand-in: run through scripts/test.sh (scripts/docker-env.sh)");
        scratch = tempDir("onedigest-prometheus-");
        const backend = path.join(scratch, "state");
        fs.mkdirSync(backend);
        appPort = await freePort();
        const prometheusPort = await freePort();
        standInPort = await freePort();
        prom = `http://127.0.0.1:${prometheusPort}`;
        stack = await Stack.create(NAME, ROOT, scratch, cliEnv(backend), {
            targets: ["local"],
            app: { name: NAME },
            local: { port: appPort, prometheusPort, scrapeSeconds: 1, alertForSeconds: 2 },
        });
    });

    after(async function () {
        await dockerResult(["rm", "-f", STAND_IN]);
        await dockerResult(["rmi", "-f", `${STAND_IN}:test`]);
        if (stack) await stack.remove().catch((err: Error) => console.log(`      cleanup of ${NAME}: ${err.message.split("\n")[0]}`));
        if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
    });

    it("up: Prometheus's API reports the app's target up and its request series; only the app's port and Prometheus's are published, on loopback", async () => {
        ok(await stack!.up(), `pulumi up ${NAME}`);
        const out = (await stack!.outputs()) as { deployments: { local: { dashboard: string } } };
        assert.strictEqual(out.deployments.local.dashboard, prom);
        const res = await fetch(`http://127.0.0.1:${appPort}/healthcheck`);
        assert.strictEqual(res.status, 200);

        const targets = await waitFor("the app's target up", 60_000, async () => {
            const active = (await api<{ activeTargets: Array<{ scrapeUrl: string; health: string }> }>("targets")).activeTargets;
            return active.length === 1 && active[0].health === "up" ? active : undefined;
        });
        assert.strictEqual(targets[0].scrapeUrl, "http://app:9100/metrics", "scraped over the private network, at the metrics port");
        const series = await waitFor("the /healthcheck request series", 30_000, async () => {
            const result = (await api<{ result: Array<{ metric: Record<string, string> }> }>(`query?query=${encodeURIComponent('http_requests_total{job="app",route="/healthcheck"}')}`)).result;
            return result.length > 0 ? result : undefined;
        });
        assert.strictEqual(series[0].metric.status, "200");
        // The three rules, loaded from the stack's thresholds.
        const rules = (await api<{ groups: Array<{ rules: Array<{ name: string; query: string }> }> }>("rules")).groups.flatMap((g) => g.rules);
        assert.deepStrictEqual(rules.map((r) => r.name), ["AppDown", "AppFailing", "AppSlow"]);
        assert.match(rules[1].query, / > 5$/, "Pulumi.yaml's errorRatePercent");
        assert.match(rules[2].query, / > 1$/, "Pulumi.yaml's latencyP99Ms, in seconds");

        const published = (name: string) => JSON.parse(docker("inspect", "--format", "{{json .HostConfig.PortBindings}}", name)) as Record<string, Array<{ HostIp: string; HostPort: string }>>;
        assert.deepStrictEqual(published(APP), { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: String(appPort) }] }, "9100 is never published");
        assert.deepStrictEqual(Object.values(published(PROMETHEUS)).flat(), [{ HostIp: "127.0.0.1", HostPort: String(new URL(prom).port) }]);
        const networks = (name: string) => Object.keys(JSON.parse(docker("inspect", "--format", "{{json .NetworkSettings.Networks}}", name)) as object);
        assert.deepStrictEqual([networks(APP), networks(PROMETHEUS)], [[NETWORK], [NETWORK]]);
    });

    it("a burst of 5xx from a test-only route fires AppFailing; stopping the app fires AppDown", async () => {
        // The stack's image plus a route that fails, in the app's place under its alias.
        const context = path.join(scratch, "failing");
        fs.mkdirSync(context);
        fs.writeFileSync(path.join(context, "failing_wsgi.py"), FAILING_MODULE);
        const image = docker("inspect", "--format", "{{.Image}}", APP);
        fs.writeFileSync(path.join(context, "Dockerfile"), `FROM ${image}\nCOPY failing_wsgi.py ./\nCMD ["gunicorn", "-c", "gunicorn.conf.py", "failing_wsgi:app"]\n`);
        docker("build", "-q", "-t", `${STAND_IN}:test`, context);
        docker("stop", APP);
        docker("run", "-d", "--name", STAND_IN, "--network", NETWORK, "--network-alias", "app", "-p", `127.0.0.1:${standInPort}:8080`, "-e", `SECRET_KEY=${randomBytes(32).toString("hex")}`, `${STAND_IN}:test`);
        await waitFor("the stand-in answering", 60_000, async () => ((await fetch(`http://127.0.0.1:${standInPort}/healthcheck`).catch(() => undefined))?.status === 200 ? true : undefined));

        const started = Date.now();
        // A few seconds of failures: far over the 5% threshold for longer than the rule's `for`.
        const burst = async () => {
            for (let i = 0; i < 40; i++) assert.strictEqual((await fetch(`http://127.0.0.1:${standInPort}/test-only/fail`)).status, 500);
        };
        await waitFor("AppFailing firing", 60_000, async () => {
            await burst();
            return firing("AppFailing");
        });
        console.log(`      AppFailing fired ${((Date.now() - started) / 1000).toFixed(1)} s after the burst began`);
        assert.strictEqual(await firing("AppDown"), undefined, "the app is up");

        const stopped = Date.now();
        docker("stop", STAND_IN);
        await waitFor("AppDown firing", 60_000, () => firing("AppDown"));
        console.log(`      AppDown fired ${((Date.now() - stopped) / 1000).toFixed(1)} s after the app stopped`);
        docker("rm", "-f", STAND_IN);
        docker("start", APP);
    });

    it("destroy removes the app, Prometheus and the network", async () => {
        ok(await stack!.cli(["destroy", "--yes", "--skip-preview"], { timeoutMs: 300_000 }), `pulumi destroy ${NAME}`);
        assert.strictEqual(docker("ps", "-a", "--filter", `name=^${APP}`, "--format", "{{.Names}}"), "");
        assert.strictEqual(docker("network", "ls", "--filter", `name=^${NETWORK}$`, "--format", "{{.Name}}"), "");
    });
});
