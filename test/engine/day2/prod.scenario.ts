/**
 * The `prod` stack's lifecycle (ECS + Cloud Run, promoted from `dev`) through the real CLI against
 * the fake clouds: the first deploy as docs/delivery.md ("Before the first `pulumi up`") describes
 * it, `scripts/verify.sh prod`, an empty second preview, the same promotion again, a `secretKey`
 * rotation, the promotion of a new dev build, the re-promotion of an image prod ran before, a
 * rollback by `image.ref`, `destroy`, and `up` again. Every check reads the fakes' state (the fake
 * AWS and Google Cloud stores, the ECR and Artifact Registry stand-ins' push logs), not Pulumi's
 * report.
 *
 * What the harness adds to the documented steps: the registries stand in on 127.0.0.1, which the
 * program does not recognise as Artifact Registry or ECR hosts (registryAuth.ts: ARTIFACT_REGISTRY_HOST,
 * ECR_HOST), so the pulls of a promotion or a pin log in through `onedigest:registryAuth` with the
 * stand-ins' logins (the same tokens the fakes hand out as the gcloud token and ECR's password).
 *
 * In the real-engine stage (test/engine/.mocharc.json); alone, with scripts/docker-env.sh's environment:
 *   npx mocha --no-config -r ts-node/register/transpile-only --node-option no-experimental-strip-types \
 *     --timeout 900000 --exit test/engine/day2/prod.scenario.ts
 */
import * as assert from "assert";

import { ok, run, type Stack } from "../cli";
import { withPack } from "../policyPack";
import type { AlarmRecord, DashboardRecord } from "../fakes/aws/cloudwatch";
import type { SubscriptionRecord, TopicRecord } from "../fakes/aws/sns";
import type { ServiceRecord as RunService, RevisionRecord } from "../fakes/gcp/cloudrunv2";
import { HEROKU_KEY, World } from "./world";
import { awsRecordOf, currentSecret, currentVersionId, ecrDigest, ecsService, envOf, liveAws, retainedResources, revisions, runningContainer, secretRecord, setStrings, sha256, tagOf } from "./awsState";

const DEV_SECRET = "day2-dev-secret-0123456789abcdef";
const PROD_SECRETS = ["day2-prod-secret-0123456789abcdef", "day2-prod-secret-rotated-fedcba98"];
/** The values docs/delivery.md has the owner set before prod's first `pulumi up`. */
const CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const DOMAIN = "app.example.com";
const PROD_RUN = "my-prod-project/europe-west1/onedigest-prod";
/** Where prod's alarms go (docs/monitoring.md: `onedigest:alerts.email`). */
const ALERT_EMAIL = "oncall@example.com";
/** The advisory policies prod does not hold (docs/policy.md, what the pack finds): the program sets no enableDeletionProtection on its load balancer. */
const PROD_ADVISORIES = ["prod-alb-deletion-protection"];
const ECS_ALARMS = ["unhealthy", "errors", "latency"].map((role) => `onedigest-prod-ecs-${role}`);

interface Outputs {
    imageId: string;
    deployments: Record<string, { url: string; image: string; imageId: string; origin?: string }>;
}

describe("day 2 of prod: ECS + Cloud Run promoted from dev", function () {
    const world = new World();
    let dev: Stack;
    let prod: Stack;
    /** dev's first build and the one after an app change. */
    let imageA = "";
    let imageB = "";
    let devA: Outputs;

    before(async () => {
        await world.start();
    });
    after(async () => {
        await world.stop();
    });

    const clouds = () => world.clouds;
    const runService = (): RunService => clouds().table<RunService>("gcp", "run.services")[PROD_RUN];
    const latestRun = (): RevisionRecord => clouds().table<RevisionRecord>("gcp", "run.revisions")[runService().latestRevision];
    const runEnv = (): Record<string, unknown> => {
        const container = (latestRun().template.containers as Array<{ envs: Array<{ name: string; value?: string; valueSource?: unknown }> }>)[0];
        return Object.fromEntries(container.envs.map((e) => [e.name, e.value ?? e.valueSource]));
    };
    const runImage = (): string => (latestRun().template.containers as Array<{ image: string }>)[0].image;
    const arDigest = (repository: string, imageId: string): string | undefined =>
        clouds().artifactRegistry.pushes.find((p) => p.repository === repository && p.reference === tagOf(imageId) && p.status === 201)?.digest;

    /** Asserts that ECS and Cloud Run in prod run `imageId`, pulled from their own registries. */
    function assertProdRuns(imageId: string): void {
        const digest = ecrDigest(clouds(), "onedigest-prod", tagOf(imageId));
        assert.ok(digest, `the ECR stand-in holds ${tagOf(imageId)} in onedigest-prod`);
        const container = runningContainer(clouds(), "onedigest-prod");
        assert.strictEqual(container.image, `${clouds().ecr.host}/onedigest-prod@${digest}`, "ECS runs the digest ECR holds");
        assert.strictEqual(envOf(container).IMAGE_ID, imageId, "ECS reports the image ID it runs");
        const arPushed = arDigest("my-prod-project/onedigest-prod/onedigest", imageId);
        assert.ok(arPushed, `the Artifact Registry stand-in holds ${tagOf(imageId)} in prod's repository`);
        assert.strictEqual(runImage(), `${clouds().artifactRegistry.host}/my-prod-project/onedigest-prod/onedigest@${arPushed}`, "Cloud Run runs the digest Artifact Registry holds");
        assert.strictEqual(runEnv().IMAGE_ID, imageId, "Cloud Run reports the image ID it runs");
    }

    async function loginsFor(s: Stack): Promise<void> {
        const entries = [
            { address: clouds().artifactRegistry.host, ...clouds().logins.artifactRegistry },
            { address: clouds().ecr.host, ...clouds().logins.ecr },
        ];
        for (const [i, e] of entries.entries()) {
            await s.setConfig(`registryAuth[${i}].address`, e.address, { secret: true, path: true });
            await s.setConfig(`registryAuth[${i}].username`, e.username, { secret: true, path: true });
            await s.setConfig(`registryAuth[${i}].password`, e.password, { secret: true, path: true });
        }
    }

    it("first up, as docs/delivery.md has it: dev, then prod promoted from it, each target running dev's image ID", async () => {
        dev = await world.stack("dev", { "gcp:project": "my-dev-project" }, { secretKey: DEV_SECRET, herokuApiKey: HEROKU_KEY });
        ok(await dev.up(), "pulumi up dev");
        devA = (await dev.outputs()) as unknown as Outputs;
        imageA = devA.imageId;

        prod = await world.stack("prod", { "gcp:project": "my-prod-project" }, { secretKey: PROD_SECRETS[0] });
        // Pulumi.prod.yaml's quoted "1" and "2", as the stack file has them (see setStrings).
        await setStrings(prod, { "app.env.FORCE_HTTPS": "1", "cloudrun.cpu": "2" });
        await prod.setConfig("ecs.certificateArn", CERTIFICATE, { path: true });
        await prod.setConfig("ecs.domain", DOMAIN, { path: true });
        await loginsFor(prod);
        await prod.setConfig("alerts.email", ALERT_EMAIL, { path: true });
        // With the policy pack, which finds what docs/policy.md says it finds: no deletion protection on the load balancer.
        await withPack(prod, "up", PROD_ADVISORIES);

        assertProdRuns(imageA);
        assert.deepStrictEqual(revisions(clouds(), "onedigest-prod"), ["1 ACTIVE"]);
        const container = runningContainer(clouds(), "onedigest-prod");
        assert.strictEqual(envOf(container).FORCE_HTTPS, "1");
        assert.strictEqual(envOf(container).CANONICAL_HOST, DOMAIN);
        // The key's current version, by ID (ECS: `<secret ARN>:<json key>:<version stage>:<version ID>`).
        assert.deepStrictEqual(container.secrets, [{ name: "SECRET_KEY", valueFrom: `${secretRecord(clouds(), "onedigest-prod-secret-key")?.arn}:::${currentVersionId(clouds(), "onedigest-prod-secret-key")}` }]);
        assert.strictEqual(currentSecret(clouds(), "onedigest-prod-secret-key"), sha256(PROD_SECRETS[0]));
        const listeners = Object.values(clouds().table<{ port: number }>("aws", "elbv2.listeners"))
            .map((l) => l.port)
            .sort((a, b) => a - b);
        assert.deepStrictEqual(listeners, [80, 443]);
        assert.strictEqual(ecsService(clouds(), "onedigest-prod").deployments.length, 1);
    });

    it("prod's alarms: the three CloudWatch alarms at the target group to one topic with the email, the ECS deployments rolling back on them, the Cloud Monitoring policies to the email's channel, a dashboard on each cloud", async () => {
        const alarms = clouds().table<AlarmRecord>("aws", "cloudwatch.alarms");
        assert.deepStrictEqual(Object.keys(alarms).sort(), ECS_ALARMS.map((n) => `eu-west-1/${n}`).sort());
        const [topic, ...others] = Object.values(clouds().table<TopicRecord>("aws", "sns.topics"));
        assert.deepStrictEqual([topic.name, others.length], ["onedigest-prod-alerts", 0]);
        for (const alarm of Object.values(alarms)) {
            assert.deepStrictEqual([alarm.config.alarmActions, alarm.config.okActions], [[topic.arn], [topic.arn]], `${alarm.name} tells the topic`);
            assert.strictEqual(alarm.config.evaluationPeriods, 3, "Pulumi.yaml's unhealthyMinutes");
        }
        assert.strictEqual(alarms["eu-west-1/onedigest-prod-ecs-errors"].config.threshold, 5, "Pulumi.yaml's errorRatePercent");
        assert.strictEqual(alarms["eu-west-1/onedigest-prod-ecs-latency"].config.threshold, 1, "Pulumi.yaml's latencyP99Ms, in seconds");
        const subscriptions = Object.values(clouds().table<SubscriptionRecord>("aws", "sns.subscriptions"));
        assert.deepStrictEqual(subscriptions.map((x) => [x.topicArn, x.protocol, x.endpoint, x.pendingConfirmation]), [[topic.arn, "email", ALERT_EMAIL, true]]);
        const alarmNames = (ecsService(clouds(), "onedigest-prod").alarms as { alarmNames: string[] }).alarmNames;
        assert.deepStrictEqual([...alarmNames].sort(), [...ECS_ALARMS].sort(), "a deployment rolls back on any of them");
        assert.ok(clouds().table<DashboardRecord>("aws", "cloudwatch.dashboards")["onedigest-prod-ecs"], "the ECS dashboard");

        // prod's, by project (dev's Cloud Run has its own policies, and no channel without an email).
        const prodOnly = <T>(table: string): T[] => Object.entries(clouds().table<T>("gcp", table)).filter(([k]) => k.startsWith("my-prod-project/")).map(([, r]) => r);
        const channels = prodOnly<{ name: string; labels: Record<string, string> }>("monitoring.notificationChannels");
        assert.deepStrictEqual(channels.map((c) => c.labels), [{ email_address: ALERT_EMAIL }]);
        const policies = prodOnly<{ displayName: string; notificationChannels: string[] }>("monitoring.alertPolicies");
        assert.deepStrictEqual(policies.map((p) => p.displayName.split(": ").pop()).sort(), ["down", "failing", "slow"]);
        for (const p of policies) assert.deepStrictEqual(p.notificationChannels, [channels[0].name], p.displayName);
        assert.strictEqual(prodOnly("monitoring.uptimeCheckConfigs").length, 1, "the uptime check of the public service");
        assert.strictEqual(prodOnly("monitoring.dashboards").length, 1, "the Cloud Run dashboard");
        const out = (await prod.outputs()) as unknown as { deployments: Record<string, { dashboard?: string }> };
        assert.strictEqual(out.deployments["aws-ecs"].dashboard, "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/onedigest-prod-ecs");
        assert.match(String(out.deployments["gcp-cloudrun"].dashboard), /^https:\/\/console\.cloud\.google\.com\/monitoring\/dashboards\//);
    });

    it("scripts/verify.sh prod: asks every deployment's /healthcheck (no fake serves one) and names the DNS record to create", async () => {
        const verify = await run("bash", ["scripts/verify.sh", "prod", "--timeout", "10"], { cwd: world.dir, env: world.env, timeoutMs: 120_000 });
        console.log(`      verify.sh prod exited ${verify.code}:\n${(verify.stdout + verify.stderr).trim().replace(/^/gm, "        ")}`);
        assert.strictEqual(verify.code, 1);
        assert.match(verify.stdout + verify.stderr, /aws-ecs/);
        assert.match(verify.stdout + verify.stderr, /gcp-cloudrun/);
        // What the user reads next: the DNS record the first deploy needs, with the load balancer's name.
        const prodOut = (await prod.outputs()) as unknown as Outputs;
        assert.ok(verify.stdout.includes(`note  aws-ecs  ${DOMAIN} does not resolve yet: create ${DOMAIN} CNAME ${prodOut.deployments["aws-ecs"].origin}`), verify.stdout);
    });

    it("a second preview of each stack is empty", async () => {
        ok(await dev.cli(["preview", "--expect-no-changes", "--diff"]), "pulumi preview --expect-no-changes dev");
        await withPack(prod, "preview", PROD_ADVISORIES, ["--expect-no-changes", "--diff"]);
    });

    it("the same promotion again changes nothing in either cloud", async () => {
        const before = { aws: clouds().state("aws").tables, gcp: clouds().state("gcp").tables, ecr: clouds().ecr.pushes.length, ar: clouds().artifactRegistry.pushes.length };
        ok(await prod.up(), "pulumi up prod (same promotion)");
        assert.deepStrictEqual(clouds().state("aws").tables, before.aws);
        assert.deepStrictEqual(clouds().state("gcp").tables, before.gcp);
        assert.strictEqual(clouds().ecr.pushes.length, before.ecr, "nothing pushed to ECR");
        assert.strictEqual(clouds().artifactRegistry.pushes.length, before.ar, "nothing pushed to Artifact Registry");
    });

    it("secretKey rotation rolls out to every target, and no key is in plain text in the state", async () => {
        const ecsBefore = revisions(clouds(), "onedigest-prod").length;
        const runBefore = runService().latestRevision;
        await prod.setConfig("secretKey", PROD_SECRETS[1], { secret: true });
        ok(await prod.up(), "pulumi up prod (rotated secretKey)");
        assert.strictEqual(currentSecret(clouds(), "onedigest-prod-secret-key"), sha256(PROD_SECRETS[1]), "Secrets Manager holds the new key");
        assert.notStrictEqual(runService().latestRevision, runBefore, "Cloud Run: a new revision reads the new key");
        assert.strictEqual(revisions(clouds(), "onedigest-prod").length, ecsBefore + 1, "ECS: a new task definition revision, so tasks restart and read the new key");
        assert.strictEqual(ecsService(clouds(), "onedigest-prod").deployments.length, 2, "ECS: a new deployment");
        assert.ok(runningContainer(clouds(), "onedigest-prod").secrets[0].valueFrom.endsWith(`:::${currentVersionId(clouds(), "onedigest-prod-secret-key")}`), "ECS: the tasks read the new version");
        const exported = ok(await prod.cli(["stack", "export"], { config: false }), "pulumi stack export prod").stdout;
        for (const key of PROD_SECRETS) assert.ok(!exported.includes(key), "a secretKey is in plain text in prod's state");
    });

    it("a new dev build, promoted, rolls prod forward: a new task definition revision and a new Cloud Run revision", async () => {
        world.changeApp("day 2: build B");
        ok(await dev.up(), "pulumi up dev (build B)");
        imageB = ((await dev.outputs()) as unknown as Outputs).imageId;
        assert.notStrictEqual(imageB, imageA);
        ok(await prod.up(), "pulumi up prod (promotion of B)");
        assertProdRuns(imageB);
        const states = revisions(clouds(), "onedigest-prod");
        assert.strictEqual(states[states.length - 1].split(" ")[1], "ACTIVE");
        assert.ok(states.slice(0, -1).every((s) => s.endsWith("INACTIVE")), `only the running revision is ACTIVE: ${states.join(", ")}`);
    });

    it("re-promotion of an image prod ran before (a rollback): dev pinned back to A, prod promotes it, nothing refused", async () => {
        await loginsFor(dev);
        await dev.setConfig("image.ref", devA.deployments["gcp-cloudrun"].image, { path: true });
        ok(await dev.up(), "pulumi up dev (pinned to A)");
        assert.strictEqual(((await dev.outputs()) as unknown as Outputs).imageId, imageA);
        ok(await prod.up(), "pulumi up prod (re-promotion of A)");
        assertProdRuns(imageA);
        assert.deepStrictEqual(clouds().ecr.pushes.filter((p) => p.refused), [], "no push was refused by ECR's immutable tags");
        assert.deepStrictEqual(clouds().artifactRegistry.pushes.filter((p) => p.refused), [], "no push was refused by Artifact Registry's immutable tags");
    });

    it("rollback by image.ref: prod pinned to B's ECR digest runs B everywhere", async () => {
        const refB = `${clouds().ecr.host}/onedigest-prod@${ecrDigest(clouds(), "onedigest-prod", tagOf(imageB))}`;
        ok(await prod.cli(["config", "rm", "--path", "onedigest:image.promoteFrom"]), "config rm image.promoteFrom");
        await prod.setConfig("image.ref", refB, { path: true });
        ok(await prod.up(), "pulumi up prod (image.ref B)");
        assertProdRuns(imageB);
        ok(await prod.cli(["config", "rm", "--path", "onedigest:image.ref"]), "config rm image.ref");
        await prod.setConfig("image.promoteFrom", "dev", { path: true });
    });

    /** What prod's destroy left, and the secret it had before. */
    let keptSecretArn = "";

    it("destroy of prod (deletion protection off first, as documented) leaves exactly what it retains: the ECR and Artifact Registry repositories, and the secret retained or in its recovery window", async () => {
        await prod.setConfig("cloudrun.deletionProtection", "false", { path: true });
        ok(await prod.up(), "pulumi up prod (deletion protection off)");
        const retained = await retainedResources(prod);
        console.log(`      retained by prod: ${retained.map((r) => r.type).join(", ")}`);
        const awsRetained = retained.filter((r) => r.type.startsWith("aws:"));
        const expected = awsRetained.map((r) => awsRecordOf(clouds(), r.type, r.id)).sort();
        keptSecretArn = secretRecord(clouds(), "onedigest-prod-secret-key")!.arn;
        ok(await prod.cli(["destroy", "--yes", "--skip-preview"], { timeoutMs: 600_000 }), "pulumi destroy prod");

        assert.ok(awsRetained.some((r) => r.type === "aws:ecr/repository:Repository"), "the ECR repository (rollback history) is retained, as docs/configuration.md says");
        assert.deepStrictEqual(liveAws(clouds()), expected, "AWS holds exactly what prod retained");
        const secret = secretRecord(clouds(), "onedigest-prod-secret-key");
        assert.ok(secret, "the secret's name is still taken");
        if (!awsRetained.some((r) => r.type === "aws:secretsmanager/secret:Secret")) {
            assert.ok(secret.deletionDate, "a secret not retained is scheduled for deletion");
            assert.strictEqual(Date.parse(secret.deletionDate!) - Date.parse(secret.deletedDate!), 7 * 86_400_000, "a 7-day recovery window");
        } else {
            assert.strictEqual(secret.deletionDate, undefined, "a retained secret is never deleted");
        }
        const gcpRetained = retained.filter((r) => r.type.startsWith("gcp:")).map((r) => r.type);
        assert.deepStrictEqual(gcpRetained, ["gcp:artifactregistry/repository:Repository"]);
        const gcpLeft = Object.entries(clouds().state("gcp").tables)
            .filter(([table]) => table !== "serviceusage.services" && table !== "iam.deletedServiceAccounts")
            .flatMap(([table, records]) => Object.keys(records).filter((key) => key.includes("my-prod-project")).map((key) => `${table} ${key}`));
        assert.deepStrictEqual(gcpLeft, ["artifactregistry.repositories my-prod-project/europe-west1/onedigest-prod"], "Google Cloud holds exactly the retained repository");
        // Named: the alarms, the topic with its pending subscription, the dashboards and the policies are gone.
        for (const table of ["cloudwatch.alarms", "cloudwatch.dashboards", "sns.topics", "sns.subscriptions"]) assert.deepStrictEqual(Object.keys(clouds().table("aws", table)), [], `aws ${table} after destroy`);
        for (const table of ["monitoring.notificationChannels", "monitoring.alertPolicies", "monitoring.uptimeCheckConfigs", "monitoring.dashboards"]) assert.deepStrictEqual(Object.keys(clouds().table("gcp", table)).filter((k) => k.startsWith("my-prod-project/")), [], `gcp ${table} after destroy`);
    });

    it("up of prod again after its destroy deploys prod again, adopting what destroy left", async () => {
        const up = await prod.up();
        if (up.code !== 0) console.log(`      up of prod again failed:\n${(up.stdout + up.stderr).split("\n").filter((l) => /error:/.test(l)).join("\n")}`);
        ok(up, "pulumi up prod after destroy");
        assertProdRuns(imageA);
        assert.strictEqual(secretRecord(clouds(), "onedigest-prod-secret-key")?.arn, keptSecretArn, "the secret prod had, not a new one");
        assert.strictEqual(currentSecret(clouds(), "onedigest-prod-secret-key"), sha256(PROD_SECRETS[1]), "its current value is the rotated key");
        ok(await prod.cli(["preview", "--expect-no-changes"]), "pulumi preview --expect-no-changes after the adoption");
    });
});
