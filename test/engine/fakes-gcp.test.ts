/**
 * The fake gcp provider plugin (test/engine/fakes/gcp) through the real Pulumi CLI and engine, with
 * a program of its own (fixtures/gcp-fake) that registers every gcp resource and invoke onedigest
 * uses and pushes an image through the real Docker provider into the Artifact Registry stand-in.
 * Each step provokes one of the fake's rules and checks it on the fake's state and the registry:
 * API enablement, secret access for a revision, outputs as the API reports them, ForceNew
 * replacements and in-place updates, names already taken (and the same name in another region),
 * a type and an invoke the fake does not serve, immutable tags, deletion protection, and a
 * retained repository that keeps its name after destroy.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { getManifest } from "../pipeline/docker";
import { FakeClouds } from "./clouds";
import { Stack, changedSteps, cliEnv, ok, tempDir, type Result } from "./cli";
import { projectNumber } from "./fakes/gcp/common";

const FIXTURE = path.join(__dirname, "fixtures", "gcp-fake");
const PROJECT = "fake-check-project";
const REGION = "europe-west1";
const NUMBER = projectNumber(PROJECT);
const NAMES = { repositoryId: "check-images", secretId: "check-secret", accountId: "check-runtime", serviceName: "check-service" };
const key = (k: string) => `gcp-fake-check:${k}`;

function output(result: Result): string {
    return result.stdout + result.stderr;
}

describe("real engine: the fake gcp provider plugin", function () {
    let scratch = "";
    let clouds: FakeClouds;
    let stack: Stack;
    let otherImage = "";
    const base = process.env.ONEDIGEST_BASE_IMAGE ?? "";

    const table = <T = Record<string, unknown>>(name: string) => clouds.table<T>("gcp", name);
    const up = (...flags: string[]) => stack.cli(["up", "--yes", "--skip-preview", ...flags], { timeoutMs: 300_000 });
    const set = (config: Record<string, unknown>) => stack.setAll(Object.fromEntries(Object.entries(config).map(([k, v]) => [k.includes(":") ? k : key(k), v])));

    before(async function () {
        assert.ok(process.env.DOCKER_HOST && process.env.NODE_EXTRA_CA_CERTS && base, "no engine: run through scripts/test.sh, which starts dockerd and the registries");
        scratch = tempDir("onedigest-fakes-gcp-");
        clouds = await FakeClouds.start(scratch);
        const backend = path.join(scratch, "state");
        fs.mkdirSync(backend);
        // Other bits to push under a tag that exists: a one-file image.
        const layer = path.join(scratch, "other");
        fs.mkdirSync(layer);
        fs.writeFileSync(path.join(layer, "other"), "other bits\n");
        otherImage = "gcp-fake-other:1";
        execFileSync("bash", ["-c", `tar -C "${layer}" -c . | docker import - "${otherImage}" >/dev/null`]);
        stack = await Stack.create("gcp-fake", FIXTURE, scratch, cliEnv(backend, clouds.env()), {
            "gcp:project": PROJECT,
            "gcp:region": REGION,
            ...Object.fromEntries(Object.entries(NAMES).map(([k, v]) => [key(k), v])),
            [key("sourceImage")]: base,
            [key("tag")]: "v1",
        });
        await stack.setConfig(key("secretData"), "first-secret-value", { secret: true });
    });

    after(async function () {
        if (stack) {
            await set({ deletionProtection: false, retainRepository: false, duplicate: "", unserved: "", noChannel: false, channelRef: "" });
            await stack.cli(["up", "--yes", "--skip-preview"], { timeoutMs: 300_000 }).catch(() => undefined);
            await stack.remove().catch((err: Error) => console.log(`      cleanup: ${err.message.split("\n")[0]}`));
        }
        if (clouds) await clouds.stop();
        if (otherImage) execFileSync("docker", ["image", "rm", "-f", otherImage], { stdio: "ignore" });
        if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
    });

    it("refuses every call until its API is enabled, in Google's words", async () => {
        await set({ enableApis: false, grantAccess: true });
        const result = await up("--continue-on-error");
        assert.notStrictEqual(result.code, 0);
        for (const [title, service] of [
            ["Artifact Registry API", "artifactregistry.googleapis.com"],
            ["Secret Manager API", "secretmanager.googleapis.com"],
            ["Identity and Access Management (IAM) API", "iam.googleapis.com"],
            ["Cloud Monitoring API", "monitoring.googleapis.com"],
        ]) {
            assert.ok(
                output(result).includes(`googleapi: Error 403: ${title} has not been used in project ${NUMBER} before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/${service}/overview?project=${NUMBER} then retry.`),
                output(result),
            );
        }
        assert.match(output(result), /"reason": "SERVICE_DISABLED"/);
        assert.deepStrictEqual(Object.keys(table("artifactregistry.repositories")), []);
        assert.deepStrictEqual(Object.keys(table("secretmanager.secrets")), []);
        assert.deepStrictEqual(Object.keys(table("iam.serviceAccounts")), []);
        assert.ok(clouds.state("gcp").log.filter((e) => e.op === "refused").length >= 3);
    });

    it("with the APIs enabled, Cloud Run refuses a revision whose account may not read its secret", async () => {
        await set({ enableApis: true, grantAccess: false });
        const result = await up("--continue-on-error");
        assert.notStrictEqual(result.code, 0);
        const email = `${NAMES.accountId}@${PROJECT}.iam.gserviceaccount.com`;
        assert.ok(
            output(result).includes(
                `Error waiting to create Service: Error waiting for Creating Service: Error code 9, message: spec.template.spec.containers[0].env[1].value_from.secret_key_ref.name: Permission denied on secret: projects/${NUMBER}/secrets/${NAMES.secretId}/versions/1 for Revision service account ${email}.`,
            ),
            output(result),
        );
        assert.deepStrictEqual(Object.keys(table("serviceusage.services")).sort(), ["artifactregistry", "iam", "monitoring", "run", "secretmanager"].map((s) => `${PROJECT}/${s}.googleapis.com`));
        assert.ok(table("artifactregistry.repositories")[`${PROJECT}/${REGION}/${NAMES.repositoryId}`]);
        assert.deepStrictEqual(Object.keys(table("run.services")), []);
    });

    it("with the binding it deploys, and reports what the APIs report; a second run and a refresh change nothing", async () => {
        await set({ grantAccess: true });
        ok(await up(), "up with the binding");
        const out = await stack.outputs();
        const registryUri = `${clouds.artifactRegistry.host}/${PROJECT}/${NAMES.repositoryId}`;
        assert.strictEqual(out.registryUri, registryUri);
        assert.strictEqual(out.email, `${NAMES.accountId}@${PROJECT}.iam.gserviceaccount.com`);
        assert.strictEqual(out.versionName, `projects/${NUMBER}/secrets/${NAMES.secretId}/versions/1`);
        assert.match(String(out.uri), new RegExp(`^https://${NAMES.serviceName}-[a-z0-9]{10}\\.a\\.run\\.app$`));
        assert.deepStrictEqual(out.urls, [`https://${NAMES.serviceName}-${NUMBER}.${REGION}.run.app`, out.uri]);
        assert.match(String(out.latestReadyRevision), new RegExp(`^projects/${PROJECT}/locations/${REGION}/services/${NAMES.serviceName}/revisions/${NAMES.serviceName}-00001-[a-z0-9]{3}$`));
        assert.strictEqual(out.generation, "1");
        assert.strictEqual(out.tokenLength, clouds.logins.artifactRegistry.password.length);
        // The push went through the real Docker provider, logged in as oauth2accesstoken.
        const [repo, digest] = String(out.image).split("@");
        assert.strictEqual(repo, `${registryUri}/app`);
        const pushed = await getManifest(clouds.artifactRegistry.host, `${PROJECT}/${NAMES.repositoryId}/app`, "v1", clouds.logins.artifactRegistry);
        assert.strictEqual(pushed.digest, digest);
        ok(await stack.cli(["preview", "--expect-no-changes", "--diff"]), "preview --expect-no-changes");
        ok(await stack.cli(["refresh", "--yes", "--skip-preview"]), "refresh");
        ok(await stack.cli(["preview", "--expect-no-changes", "--diff"]), "preview --expect-no-changes after refresh");
    });

    it("replaces on a ForceNew field and updates in place for any other; a template change makes a revision", async () => {
        const before = table<{ createTime: string }>("artifactregistry.repositories")[`${PROJECT}/${REGION}/${NAMES.repositoryId}`];
        await set({ description: "second", displayName: "second", accountId: "check-runtime-two", greeting: "hi" });
        await stack.setConfig(key("secretData"), "second-secret-value", { secret: true });
        const preview = JSON.parse(ok(await stack.cli(["preview", "--json"]), "preview --json").stdout) as { steps: Array<{ op: string; urn: string; replaceReasons?: string[]; detailedDiff?: Record<string, { kind: string }> }> };
        const steps = changedSteps(JSON.stringify(preview));
        for (const step of [
            "update gcp:artifactregistry/repository:Repository repository",
            "replace gcp:serviceaccount/account:Account runtime",
            "replace gcp:secretmanager/secretVersion:SecretVersion secret-version",
            "replace gcp:secretmanager/secretIamMember:SecretIamMember secret-access",
            "update gcp:cloudrunv2/service:Service service",
        ]) {
            assert.ok(steps.includes(step), `${step} not in ${steps.join(", ")}`);
        }
        const reasons = (name: string) => preview.steps.find((s) => s.op === "replace" && s.urn.endsWith(`::${name}`))?.replaceReasons;
        assert.deepStrictEqual(reasons("runtime"), ["accountId"]);
        assert.deepStrictEqual(reasons("secret-version"), ["secretData"]);
        assert.deepStrictEqual(reasons("secret-access"), ["member"]);
        const repoStep = preview.steps.find((s) => s.op === "update" && s.urn.endsWith("::repository"));
        assert.deepStrictEqual(repoStep?.detailedDiff, { description: { kind: "update", inputDiff: true } });

        ok(await up(), "up with the changes");
        const after = table<{ createTime: string; description?: string }>("artifactregistry.repositories")[`${PROJECT}/${REGION}/${NAMES.repositoryId}`];
        assert.strictEqual(after.createTime, before.createTime, "the repository was updated, not replaced");
        assert.deepStrictEqual(Object.keys(table("iam.serviceAccounts")), [`${PROJECT}/check-runtime-two`]);
        assert.deepStrictEqual(Object.values(table<{ accountId: string }>("iam.deletedServiceAccounts")).map((a) => a.accountId), [NAMES.accountId]);
        const versions = Object.values(table<{ version: number; state: string; data: string }>("secretmanager.versions")).sort((a, b) => a.version - b.version);
        assert.deepStrictEqual(versions.map((v) => [v.version, v.state, v.data]), [[1, "DESTROYED", ""], [2, "ENABLED", "second-secret-value"]]);
        assert.deepStrictEqual(Object.values(table<{ member: string }>("secretmanager.bindings")).map((b) => b.member), [`serviceAccount:check-runtime-two@${PROJECT}.iam.gserviceaccount.com`]);
        const revisions = Object.values(table<{ name: string }>("run.revisions")).map((r) => r.name).sort();
        assert.strictEqual(revisions.length, 2);
        assert.match(revisions[1], new RegExp(`^${NAMES.serviceName}-00002-[a-z0-9]{3}$`));
        const out = await stack.outputs();
        assert.strictEqual(out.generation, "2");
        assert.ok(String(out.latestReadyRevision).endsWith(`/revisions/${revisions[1]}`));
    });

    it("Cloud Monitoring: an email channel needs its address; a policy names channels by name, that exist; a channel a policy names is deleted only with forceDelete; the uptime check's host forces a new one", async () => {
        const out = await stack.outputs();
        const channelName = String(out.channelName);
        assert.match(channelName, new RegExp(`^projects/${PROJECT}/notificationChannels/\\d+$`));
        assert.match(String(out.uptimeCheckId), /^check-healthcheck-\d{10}$/);
        assert.match(String(out.dashboardName), new RegExp(`^projects/${NUMBER}/dashboards/\\d+$`));
        const policy = () => Object.values(table<{ notificationChannels: string[]; conditions: Array<{ conditionThreshold: { filter: string } }> }>("monitoring.alertPolicies"))[0];
        assert.deepStrictEqual(policy().notificationChannels, [channelName]);
        assert.ok(policy().conditions[0].conditionThreshold.filter.includes(`metric.label.check_id="${String(out.uptimeCheckId)}"`));
        const host = new URL(String(out.uri)).host;
        assert.deepStrictEqual(Object.values(table<{ monitoredResource: unknown }>("monitoring.uptimeCheckConfigs")).map((u) => u.monitoredResource), [{ type: "uptime_url", labels: { project_id: PROJECT, host } }]);

        await set({ channelWithoutAddress: true });
        assert.ok(output(await up()).includes("Error updating NotificationChannel: googleapi: Error 400: Request was missing field notification_channel.labels[email_address]."));
        await set({ channelWithoutAddress: false, channelRef: "my-channel" });
        assert.ok(output(await up()).includes("Error updating AlertPolicy: googleapi: Error 400: Name must begin with 'projects/{project_id}/notificationChannels/{channel_id}', got: my-channel"));

        // The policy keeps naming the channel the program no longer makes: its delete is refused…
        await set({ channelRef: channelName, noChannel: true });
        const refused = output(await up());
        const policyName = Object.values(table<{ name: string }>("monitoring.alertPolicies"))[0].name;
        assert.ok(refused.includes(`Error deleting NotificationChannel: googleapi: Error 400: Notification channel ${channelName} is referenced by alert policies: ${policyName}`), refused);
        assert.ok(table("monitoring.notificationChannels")[`${PROJECT}/${channelName.split("/").pop()}`], "the channel is still there");
        // …until it is forced: then it goes, and the policy with it no longer names it.
        await set({ noChannel: false, forceDeleteChannel: true, channelRef: "" });
        ok(await up(), "up (forceDelete on the channel)");
        await set({ noChannel: true, channelRef: channelName });
        ok(await up(), "up (the forced delete)");
        assert.deepStrictEqual(Object.keys(table("monitoring.notificationChannels")), []);
        assert.deepStrictEqual(policy().notificationChannels, []);
        // Naming the gone channel again is a channel that does not exist.
        await set({ policyName: "down again" });
        assert.ok(output(await up()).includes("Error updating AlertPolicy: googleapi: Error 404: Notification channel not found"));
        await set({ noChannel: false, forceDeleteChannel: false, channelRef: "", policyName: "down" });
        ok(await up(), "up (a channel again)");
        assert.deepStrictEqual(policy().notificationChannels, [String((await stack.outputs()).channelName)]);

        await set({ uptimePath: "/healthz", dashboardTitle: "check 2", uptimeHost: "other.example.com" });
        const steps = changedSteps(ok(await stack.cli(["preview", "--json"]), "preview --json").stdout);
        for (const step of ["replace gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig uptime", "update gcp:monitoring/dashboard:Dashboard dashboard", "update gcp:monitoring/alertPolicy:AlertPolicy down"]) assert.ok(steps.includes(step), `${step} not in ${steps.join(", ")}`);
        await set({ uptimeHost: "" });
        const inPlace = changedSteps(ok(await stack.cli(["preview", "--json"]), "preview --json").stdout);
        assert.ok(inPlace.includes("update gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig uptime"), inPlace.join(", "));
        await set({ uptimePath: "/healthcheck", dashboardTitle: "check" });
        ok(await stack.cli(["preview", "--expect-no-changes"]), "preview --expect-no-changes");
    });

    it("refuses a name another resource holds, as Google does; the same service name in another region is another service", async () => {
        const expected: Record<string, string> = {
            repository: "Error creating Repository: googleapi: Error 409: the repository already exists.",
            secret: `Error creating Secret: googleapi: Error 409: Secret [projects/${NUMBER}/secrets/${NAMES.secretId}] already exists.`,
            account: `Error creating service account: googleapi: Error 409: Service account check-runtime-two already exists within project projects/${PROJECT}.`,
            service: `Error creating Service: googleapi: Error 409: Resource '${NAMES.serviceName}' already exists.`,
            "short-account": '"account_id" ("short") must be between 6 and 30 characters long',
        };
        for (const [duplicate, message] of Object.entries(expected)) {
            await set({ duplicate });
            const result = await up();
            assert.notStrictEqual(result.code, 0, `a second ${duplicate} was created`);
            assert.ok(output(result).includes(message), output(result));
        }
        assert.deepStrictEqual(Object.keys(table("run.services")).sort(), [`${PROJECT}/${REGION}/${NAMES.serviceName}`, `${PROJECT}/us-central1/${NAMES.serviceName}`]);
        assert.strictEqual(Object.keys(table("secretmanager.secrets")).length, 1);
        assert.strictEqual(Object.keys(table("artifactregistry.repositories")).length, 1);
        assert.strictEqual(Object.keys(table("iam.serviceAccounts")).length, 1);
    });

    it("fails loudly for a type or an invoke it does not serve", async () => {
        const expected = {
            type: "unknown resource type gcp:storage/bucket:Bucket: the fake gcp provider serves only gcp:projects/service:Service, ",
            invoke: "unknown function gcp:organizations/getProject:getProject: the fake gcp provider answers only gcp:organizations/getClientConfig:getClientConfig",
        };
        try {
            for (const [unserved, message] of Object.entries(expected)) {
                await set({ duplicate: "", unserved });
                const result = await up();
                assert.notStrictEqual(result.code, 0, `an unserved ${unserved} passed`);
                assert.ok(output(result).includes(message), output(result));
            }
            assert.ok(!clouds.state("gcp").log.some((e) => e.type === "gcp:storage/bucket:Bucket"), "nothing was stored for it");
        } finally {
            await set({ unserved: "" });
        }
    });

    it("keeps Artifact Registry tags immutable: the same digest again passes, other bits under the tag are refused", async () => {
        await set({ pushTrigger: "2" });
        ok(await up(), "up pushing the same bits again");
        const again = clouds.artifactRegistry.pushes.filter((p) => p.reference === "v1");
        assert.strictEqual(again.length, 2);
        assert.deepStrictEqual(again.map((p) => p.status), [201, 201]);
        assert.strictEqual(again[0].digest, again[1].digest);
        assert.deepStrictEqual(Object.keys(table("run.services")), [`${PROJECT}/${REGION}/${NAMES.serviceName}`], "the other region's service is deleted with its resource");

        await set({ sourceImage: otherImage, pushTrigger: "3" });
        const refused = await up();
        assert.notStrictEqual(refused.code, 0);
        assert.match(output(refused), /tag invalid: The repository has enabled tag immutability/);
        const last = clouds.artifactRegistry.pushes[clouds.artifactRegistry.pushes.length - 1];
        assert.deepStrictEqual([last.reference, last.refused], ["v1", "TAG_INVALID"]);
        const still = await getManifest(clouds.artifactRegistry.host, `${PROJECT}/${NAMES.repositoryId}/app`, "v1", clouds.logins.artifactRegistry);
        assert.strictEqual(still.digest, again[0].digest, "the tag still names the first bits");
        await set({ sourceImage: base });
    });

    it("destroy: deletion protection holds the service; a retained repository stays and keeps its name; a deleted account's ID is free again", async () => {
        const refused = await stack.cli(["destroy", "--yes", "--skip-preview"], { timeoutMs: 300_000 });
        assert.notStrictEqual(refused.code, 0);
        assert.ok(output(refused).includes("cannot destroy service without setting deletion_protection=false and running `terraform apply`"), output(refused));
        assert.strictEqual(Object.keys(table("run.services")).length, 1);

        await set({ deletionProtection: false, retainRepository: true });
        ok(await up(), "up turning protection off");
        assert.strictEqual((await stack.outputs()).generation, "2", "deletionProtection lives in state only: no new generation");
        ok(await stack.cli(["destroy", "--yes", "--skip-preview"], { timeoutMs: 300_000 }), "destroy");
        for (const gone of ["run.services", "run.revisions", "secretmanager.secrets", "secretmanager.versions", "secretmanager.bindings", "iam.serviceAccounts", "monitoring.notificationChannels", "monitoring.uptimeCheckConfigs", "monitoring.alertPolicies", "monitoring.dashboards"]) {
            assert.deepStrictEqual(Object.keys(table(gone)), [], `${gone} is not empty after destroy`);
        }
        assert.deepStrictEqual(Object.keys(table("artifactregistry.repositories")), [`${PROJECT}/${REGION}/${NAMES.repositoryId}`], "retainOnDelete leaves the repository");
        assert.strictEqual(Object.keys(table("serviceusage.services")).length, 5, "disableOnDestroy: false leaves the APIs on");

        const deleted = Object.values(table<{ accountId: string; uniqueId: string }>("iam.deletedServiceAccounts")).filter((a) => a.accountId === "check-runtime-two");
        assert.strictEqual(deleted.length, 1);

        const again = await up("--continue-on-error");
        assert.notStrictEqual(again.code, 0);
        assert.ok(output(again).includes("Error creating Repository: googleapi: Error 409: the repository already exists."), output(again));
        // A deleted account's ID can be used again at once, by a new identity (another uniqueId).
        const recreated = table<{ uniqueId: string }>("iam.serviceAccounts")[`${PROJECT}/check-runtime-two`];
        assert.ok(recreated, "the account ID was not reusable after its account was deleted");
        assert.notStrictEqual(recreated.uniqueId, deleted[0].uniqueId);
    });
});
