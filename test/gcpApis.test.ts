/** Waiting for freshly enabled Google Cloud APIs (providers/gcpApisOperations.ts), against a loopback server. */
import * as assert from "assert";
import * as http from "http";
import type { AddressInfo } from "net";

import { PROBES, diffApis, disabled, waitFor, waitForAll, type ApisInputs, type Clock } from "../providers/gcpApisOperations";

/** Google's answer for an API not on for the project (the shape of its error body). */
const SERVICE_DISABLED = JSON.stringify({
    error: {
        code: 403,
        message: "Cloud Run Admin API has not been used in project 123 before or it is disabled. Enable it by visiting … then retry.",
        status: "PERMISSION_DENIED",
        details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "SERVICE_DISABLED" }],
    },
});

/** A fake clock whose sleeps pass at once, recording them. */
function fakeClock(): Clock & { slept: number[] } {
    let now = 0;
    const slept: number[] = [];
    return { slept, now: () => now, sleep: async (ms) => void (slept.push(ms), (now += ms)) };
}

describe("gcp APIs: waiting until a freshly enabled API answers", () => {
    let srv: http.Server;
    let base = "";
    const seen: string[] = [];
    let disabledFor: Record<string, number> = {};

    before(async () => {
        srv = http.createServer((req, res) => {
            seen.push(`${req.url} ${req.headers.authorization ?? ""}`);
            const api = (req.url ?? "").split("/")[1];
            if ((disabledFor[api] ?? 0) > 0) {
                disabledFor[api]--;
                return void res.writeHead(403, { "content-type": "application/json" }).end(SERVICE_DISABLED);
            }
            // Any other answer is the API serving: even a 404 or a permission error of the caller.
            res.writeHead(api === "iam" ? 404 : 200, { "content-type": "application/json" }).end("{}");
        });
        await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
        base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    });
    after(() => new Promise((r) => srv.close(r)));
    beforeEach(() => {
        seen.length = 0;
        disabledFor = {};
    });

    const inputs = (services: string[]): ApisInputs => ({
        project: "p1",
        region: "europe-west10",
        services,
        endpoints: { "run.googleapis.com": `${base}/run/v2`, "iam.googleapis.com": `${base}/iam/v1/`, "secretmanager.googleapis.com": `${base}/secrets/v1/` },
        accessToken: "ya29.token",
        timeoutSeconds: 60,
    });

    it("reads SERVICE_DISABLED as not yet, anything else as serving", () => {
        assert.ok(disabled(403, SERVICE_DISABLED));
        assert.ok(!disabled(403, JSON.stringify({ error: { status: "PERMISSION_DENIED", message: "The caller does not have permission" } })));
        assert.ok(!disabled(404, SERVICE_DISABLED), "only a 403 says the API is off");
    });

    it("polls the API's own read with the caller's token, backing off while it answers SERVICE_DISABLED", async () => {
        disabledFor = { run: 3 };
        const clock = fakeClock();
        assert.strictEqual(await waitFor("run.googleapis.com", inputs(["run.googleapis.com"]), clock), 14);
        assert.deepStrictEqual(clock.slept, [2000, 4000, 8000]);
        assert.deepStrictEqual(seen, Array(4).fill("/run/v2/projects/p1/locations/europe-west10/services?pageSize=1 Bearer ya29.token"));
    });

    it("gives up at the deadline naming the API, the project and what it last said", async () => {
        disabledFor = { run: 1000 };
        await assert.rejects(waitFor("run.googleapis.com", { ...inputs(["run.googleapis.com"]), timeoutSeconds: 30 }, fakeClock()), (err: Error) => {
            assert.match(err.message, /^run\.googleapis\.com does not answer in project p1 \d+ s after it was enabled \(HTTP 403: .*has not been used in project 123/);
            assert.match(err.message, /gcloud services list --enabled --project p1/);
            return true;
        });
    });

    it("waits for every API at once, each at its own endpoint (Google's by default)", async () => {
        disabledFor = { secrets: 1 };
        const out = await waitForAll(inputs(["run.googleapis.com", "iam.googleapis.com", "secretmanager.googleapis.com"]), undefined, fakeClock());
        assert.deepStrictEqual(out.waitedSeconds, { "run.googleapis.com": 0, "iam.googleapis.com": 0, "secretmanager.googleapis.com": 2 });
        assert.deepStrictEqual(seen.map((s) => s.split(" ")[0]).sort(), ["/iam/v1/projects/p1/serviceAccounts?pageSize=1", "/run/v2/projects/p1/locations/europe-west10/services?pageSize=1", "/secrets/v1/projects/p1/secrets?pageSize=1", "/secrets/v1/projects/p1/secrets?pageSize=1"]);
        assert.strictEqual(PROBES["artifactregistry.googleapis.com"].base, "https://artifactregistry.googleapis.com/v1/");
        await assert.rejects(waitFor("compute.googleapis.com", inputs([]), fakeClock()), /no probe for compute\.googleapis\.com/);
    });

    it("only a new API, project or region is waited for again; a rotated token is not", () => {
        const olds = inputs(["run.googleapis.com"]);
        assert.deepStrictEqual(diffApis(olds, { ...olds, accessToken: "ya29.other", endpoints: {} }), { changes: false, added: [] });
        assert.deepStrictEqual(diffApis(olds, { ...olds, services: ["run.googleapis.com", "iam.googleapis.com"] }), { changes: true, added: ["iam.googleapis.com"] });
        assert.deepStrictEqual(diffApis(olds, { ...olds, project: "p2" }), { changes: true, added: ["run.googleapis.com"] });
        assert.deepStrictEqual(diffApis(olds, { ...olds, region: "us-central1" }), { changes: true, added: ["run.googleapis.com"] });
    });
});
