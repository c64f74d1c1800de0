/**
 * The `dev` stack's life on the real engine (Cloud Run through the fake gcp plugin, Heroku through
 * the fake Platform API): the first `up`, a repeat preview that must be empty, an app change (one
 * build, one push per registry, only the services updated), a rollback by `image.ref` to the
 * previous digest, a `secretKey` rotation (every target rolls out, no plain secret in the state),
 * and `destroy` (nothing left in the fake cloud or in Heroku). Assertions read the fakes' state
 * and the registries, not Pulumi's report.
 *
 *   npx --no-install mocha --no-config -r ts-node/register/transpile-only \
 *     --node-option no-experimental-strip-types --timeout 600000 --exit test/engine/day2/dev.scenario.ts
 *
 * with scripts/docker-env.sh's environment; ONEDIGEST_DAY2_REF=<commit> runs it on that commit's program.
 */
import * as assert from "assert";

import { getManifest } from "../../pipeline/docker";
import { basic } from "../clouds";
import { ok, type Stack } from "../cli";
import { withPack } from "../policyPack";
import type { LogEntry } from "../fakes/framework";
import { HEROKU_KEY, World } from "./world";

const PROJECT = "my-dev-project";
const REGION = "europe-west1";
const SECRETS = ["dev-secret-key-one-0123456789abcdef", "dev-secret-key-two-fedcba9876543210"];
/** The names the program gives the dev stack's Google resources (providers/gcpCloudRun.ts, names.ts). */
const NAMES = { repositoryId: "onedigest-dev", secretId: "onedigest-dev-secret-key", accountId: "onedigest-dev-run", service: "onedigest-dev" };

interface Deployment {
    readonly url: string;
    readonly image: string;
    readonly imageId: string;
}
interface Outputs {
    readonly imageId: string;
    readonly deployments: { readonly "gcp-cloudrun": Deployment; readonly heroku: Deployment };
}
interface Revision {
    readonly name: string;
    readonly generation: number;
    readonly template: { containers: Array<{ image: string; envs: Array<{ name: string; value?: string; valueSource?: { secretKeyRef: { secret: string; version: string } } }> }> };
}

describe("day 2: the dev stack (Cloud Run + Heroku)", function () {
    const world = new World();
    let dev: Stack;
    let first: Outputs;
    let second: Outputs;
    let herokuApp = "";
    const ar = () => world.clouds.artifactRegistry;
    const arLogin = () => world.clouds.logins.artifactRegistry;
    const table = <T>(name: string) => world.clouds.table<T>("gcp", name);
    const revisions = () => Object.values(table<Revision>("run.revisions")).sort((a, b) => a.generation - b.generation);
    const logSince = (n: number): LogEntry[] => world.clouds.state("gcp").log.slice(n).filter((e) => e.op !== "invoke");
    const app = () => [...world.heroku.apps.values()].find((a) => a.name === herokuApp);

    before(async function () {
        await world.start();
        dev = await world.stack("dev", { "gcp:project": PROJECT }, { secretKey: SECRETS[0], herokuApiKey: HEROKU_KEY });
    });

    after(async function () {
        await world.stop();
    });

    /** The manifest a `repo@sha256:` ref names, read from the Artifact Registry stand-in. */
    async function arManifest(ref: string) {
        const [repo, digest] = ref.split("@");
        const name = repo.slice(repo.indexOf("/") + 1);
        return getManifest(ar().host, name, digest, arLogin());
    }

    it("first up: the APIs, the repository, one push, the secret, the runtime account and one revision; the Heroku app released", async () => {
        // With the policy pack: dev holds every policy as it is deployed (test/engine/policyPack.ts).
        await withPack(dev, "up");
        first = (await dev.outputs()) as unknown as Outputs;
        const run = first.deployments["gcp-cloudrun"];
        assert.strictEqual(run.imageId, first.imageId);
        assert.deepStrictEqual(Object.keys(table("serviceusage.services")).sort(), ["artifactregistry", "cloudresourcemanager", "iam", "monitoring", "run", "secretmanager"].map((s) => `${PROJECT}/${s}.googleapis.com`));
        const repository = table<{ dockerConfig: { immutableTags: boolean } }>("artifactregistry.repositories")[`${PROJECT}/${REGION}/${NAMES.repositoryId}`];
        assert.ok(repository, "the repository is in the fake project");
        assert.deepStrictEqual(repository.dockerConfig, { immutableTags: true });
        // One push into the repository, tagged by the image ID, and the service runs exactly it.
        const pushes = ar().pushes.filter((p) => p.status === 201);
        assert.strictEqual(pushes.length, 1, JSON.stringify(ar().pushes));
        assert.strictEqual(pushes[0].reference, first.imageId.replace(":", "-"));
        assert.strictEqual(run.image, `${ar().host}/${PROJECT}/${NAMES.repositoryId}/onedigest@${pushes[0].digest}`);
        assert.strictEqual((await arManifest(run.image)).manifest.config.digest, first.imageId, "the registry holds the bits the stack reports");
        const [revision] = revisions();
        assert.strictEqual(revisions().length, 1);
        assert.strictEqual(revision.template.containers[0].image, run.image);
        const secretEnv = revision.template.containers[0].envs.find((e) => e.name === "SECRET_KEY");
        assert.deepStrictEqual(secretEnv?.valueSource?.secretKeyRef, { secret: NAMES.secretId, version: "1" });
        assert.strictEqual(revision.template.containers[0].envs.find((e) => e.name === "IMAGE_ID")?.value, first.imageId);
        const versions = Object.values(table<{ version: number; state: string; data: string }>("secretmanager.versions"));
        assert.deepStrictEqual(versions.map((v) => [v.version, v.state, v.data]), [[1, "ENABLED", SECRETS[0]]]);
        assert.deepStrictEqual(Object.keys(table("iam.serviceAccounts")), [`${PROJECT}/${NAMES.accountId}`]);
        assert.deepStrictEqual(
            Object.values(table<{ role: string; member: string }>("secretmanager.bindings")).map((b) => [b.role, b.member]),
            [["roles/secretmanager.secretAccessor", `serviceAccount:${NAMES.accountId}@${PROJECT}.iam.gserviceaccount.com`]],
        );
        const service = table<{ generation: number }>("run.services")[`${PROJECT}/${REGION}/${NAMES.service}`];
        assert.ok(service, "the Cloud Run service is in the fake project");
        assert.match(run.url, new RegExp(`^https://${NAMES.service}-[a-z0-9]{10}\\.a\\.run\\.app$`));
        // Watched without an alerts.email: the three policies, to no channel; the uptime check of the public service; a dashboard.
        const policies = Object.values(table<{ displayName: string; notificationChannels: string[] }>("monitoring.alertPolicies"));
        assert.deepStrictEqual(policies.map((p) => [p.displayName.split(": ").pop(), p.notificationChannels]).sort(), [["down", []], ["failing", []], ["slow", []]]);
        assert.deepStrictEqual(Object.keys(table("monitoring.notificationChannels")), []);
        assert.strictEqual(Object.keys(table("monitoring.uptimeCheckConfigs")).length, 1);
        assert.strictEqual(Object.keys(table("monitoring.dashboards")).length, 1);
        // Heroku: the app, its release of the same config digest, its SECRET_KEY.
        const heroku = first.deployments.heroku;
        herokuApp = heroku.image.split("/")[1];
        assert.strictEqual(heroku.imageId, first.imageId);
        assert.strictEqual(app()?.formation.docker_image, first.imageId);
        assert.strictEqual(app()?.configVars.SECRET_KEY, SECRETS[0]);
        assert.deepStrictEqual(await world.herokuTags(`${herokuApp}/web`), [first.imageId.replace(":", "-")]);
    });

    it("a repeat preview has no changes", async () => {
        await withPack(dev, "preview", [], ["--expect-no-changes", "--diff"]);
    });

    it("an app change: one build, one push per registry, only the services updated", async () => {
        const mark = world.clouds.state("gcp").log.length;
        const appsCreated = world.heroku.requests.filter((r) => r.method === "POST" && r.path === "/apps").length;
        world.changeApp("day 2: an app change");
        ok(await dev.up(), "pulumi up dev after an app change");
        second = (await dev.outputs()) as unknown as Outputs;
        assert.notStrictEqual(second.imageId, first.imageId, "the change built other bits");
        const newPushes = ar().pushes.filter((p) => p.status === 201).slice(1);
        assert.deepStrictEqual(newPushes.map((p) => p.reference), [second.imageId.replace(":", "-")], "one push into Artifact Registry");
        assert.deepStrictEqual(await world.herokuTags(`${herokuApp}/web`), [first.imageId, second.imageId].map((id) => id.replace(":", "-")).sort(), "one push into Heroku's registry");
        const changed = logSince(mark).map((e) => `${e.op} ${e.type}`);
        assert.deepStrictEqual(changed, ["update gcp:cloudrunv2/service:Service"], "only the Cloud Run service changes on the Google side");
        assert.strictEqual(revisions().length, 2);
        assert.strictEqual(revisions()[1].template.containers[0].image, second.deployments["gcp-cloudrun"].image);
        assert.strictEqual((await arManifest(second.deployments["gcp-cloudrun"].image)).manifest.config.digest, second.imageId);
        assert.strictEqual(world.heroku.requests.filter((r) => r.method === "POST" && r.path === "/apps").length, appsCreated, "the Heroku app is not recreated");
        assert.strictEqual(app()?.formation.docker_image, second.imageId);
    });

    it("a rollback by image.ref to the previous digest: both targets run the first bits again", async () => {
        const mark = world.clouds.state("gcp").log.length;
        await dev.setConfig("image.ref", first.deployments["gcp-cloudrun"].image, { path: true });
        // The Artifact Registry stand-in's host is not *-docker.pkg.dev, so its login comes from registryAuth.
        await dev.setConfig("registryAuth[0].address", ar().host, { secret: true, path: true });
        await dev.setConfig("registryAuth[0].username", arLogin().username, { secret: true, path: true });
        await dev.setConfig("registryAuth[0].password", arLogin().password, { secret: true, path: true });
        ok(await dev.up(), "pulumi up dev pinned to the first digest");
        const pinned = (await dev.outputs()) as unknown as Outputs;
        assert.strictEqual(pinned.imageId, first.imageId);
        const run = pinned.deployments["gcp-cloudrun"];
        assert.strictEqual(run.imageId, first.imageId);
        assert.strictEqual((await arManifest(run.image)).manifest.config.digest, first.imageId, "Cloud Run runs the first bits");
        assert.strictEqual(revisions().length, 3);
        assert.strictEqual(revisions()[2].template.containers[0].image, run.image);
        assert.strictEqual(app()?.formation.docker_image, first.imageId, "Heroku releases the first bits");
        assert.deepStrictEqual(logSince(mark).map((e) => `${e.op} ${e.type}`), ["update gcp:cloudrunv2/service:Service"]);
    });

    it("a secretKey rotation rolls out to every target and leaves no plain secret in the state", async () => {
        const releases = app()?.releases.length ?? 0;
        await dev.setConfig("secretKey", SECRETS[1], { secret: true });
        ok(await dev.up(), "pulumi up dev with a rotated secretKey");
        const versions = Object.values(table<{ version: number; state: string; data: string }>("secretmanager.versions")).sort((a, b) => a.version - b.version);
        assert.deepStrictEqual(versions.map((v) => [v.version, v.state]), [[1, "DESTROYED"], [2, "ENABLED"]]);
        assert.strictEqual(versions[1].data, SECRETS[1]);
        const latest = revisions()[revisions().length - 1];
        assert.strictEqual(revisions().length, 4, "Cloud Run rolls out a revision");
        assert.deepStrictEqual(latest.template.containers[0].envs.find((e) => e.name === "SECRET_KEY")?.valueSource?.secretKeyRef, { secret: NAMES.secretId, version: "2" });
        assert.strictEqual(app()?.configVars.SECRET_KEY, SECRETS[1]);
        assert.ok((app()?.releases.length ?? 0) > releases, "Heroku makes a release");
        const exported = ok(await dev.cli(["stack", "export"], { config: false }), "stack export dev").stdout;
        for (const secret of [...SECRETS, HEROKU_KEY, arLogin().password]) assert.ok(!exported.includes(secret), `a secret is in plain text in the state: ${secret.slice(0, 12)}…`);
    });

    it("destroy leaves nothing in the fake cloud or in Heroku", async () => {
        const index = world.stacks.indexOf(dev);
        await dev.remove();
        world.stacks.splice(index, 1);
        for (const name of ["artifactregistry.repositories", "secretmanager.secrets", "secretmanager.bindings", "iam.serviceAccounts", "run.services", "run.revisions", "monitoring.alertPolicies", "monitoring.uptimeCheckConfigs", "monitoring.dashboards"]) {
            assert.deepStrictEqual(Object.keys(table(name)), [], `${name} is not empty after destroy`);
        }
        assert.deepStrictEqual([...world.heroku.apps.values()].map((a) => a.name), []);
        // The repository's images go with it: the registry refuses its path.
        const res = await fetch(`https://${ar().host}/v2/${PROJECT}/${NAMES.repositoryId}/onedigest/tags/list`, { headers: { Authorization: basic(arLogin()) } });
        assert.strictEqual(res.status, 404);
    });
});
