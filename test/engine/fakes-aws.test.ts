/**
 * The fake `aws` provider plugin (test/engine/fakes/aws) through the real Pulumi CLI and engine,
 * with a small program of its own (fixtures/aws-fake) that registers every `aws:` type and invoke
 * onedigest uses: each is served and its state survives between runs; a ForceNew field replaces
 * (a task definition's cpu: a new revision, the old one INACTIVE) while another field updates in
 * place (a log group's retention), an Express service deploys a new revision on its endpoint (a
 * scaling change alone is not sent); name clashes (an Express service's name held while ECS still
 * lists it deleted), a secret's recovery window, an ECR repository holding images, an IAM role with
 * a policy still attached and a Beanstalk update of version and settings at once fail with the
 * cloud's own errors; destroy removes what it should and nothing else;
 * lookups find what destroy retained, and an import adopts it.
 */
import * as assert from "assert";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

import { Stack, changedSteps, cliEnv, ok, tempDir, type Result } from "./cli";
import { FakeClouds, basic } from "./clouds";
import type { TaskDefinitionRecord, ServiceRecord } from "./fakes/aws/ecs";
import type { ExpressServiceRecord } from "./fakes/aws/ecsExpress";
import type { AlarmRecord, DashboardRecord } from "./fakes/aws/cloudwatch";
import type { EnvironmentRecord } from "./fakes/aws/elasticbeanstalk";
import type { SubscriptionRecord, TopicRecord } from "./fakes/aws/sns";
import type { SecretRecord } from "./fakes/aws/secretsmanager";

const FIXTURE = path.join(__dirname, "fixtures", "aws-fake");
const DAY_MS = 86_400_000;

/** Pushes a one-layer image to a repository of the ECR stand-in over the registry API, as a client would. */
async function pushImage(host: string, login: { username: string; password: string }, repository: string, tag: string): Promise<string> {
    const headers = { Authorization: basic(login) };
    const blob = async (content: Buffer): Promise<string> => {
        const digest = `sha256:${createHash("sha256").update(content).digest("hex")}`;
        const start = await fetch(`https://${host}/v2/${repository}/blobs/uploads/`, { method: "POST", headers });
        assert.strictEqual(start.status, 202, `blob upload start: HTTP ${start.status}`);
        const location = new URL(start.headers.get("location")!, `https://${host}`);
        location.searchParams.set("digest", digest);
        const put = await fetch(location, { method: "PUT", body: content, headers: { ...headers, "Content-Type": "application/octet-stream" } });
        assert.strictEqual(put.status, 201, `blob upload: HTTP ${put.status}`);
        return digest;
    };
    const layer = Buffer.from(`layer of ${repository}:${tag}`);
    const layerDigest = await blob(layer);
    const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [layerDigest] } }));
    const configDigest = await blob(config);
    const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.docker.distribution.manifest.v2+json",
        config: { mediaType: "application/vnd.docker.container.image.v1+json", size: config.length, digest: configDigest },
        layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: layer.length, digest: layerDigest }],
    });
    const res = await fetch(`https://${host}/v2/${repository}/manifests/${tag}`, { method: "PUT", body: manifest, headers: { ...headers, "Content-Type": "application/vnd.docker.distribution.manifest.v2+json" } });
    assert.strictEqual(res.status, 201, `manifest PUT: HTTP ${res.status} ${await res.text()}`);
    return res.headers.get("docker-content-digest")!;
}

/** The output of a failed command, for matching its errors. */
function failed(result: Result, what: string): string {
    assert.notStrictEqual(result.code, 0, `${what} was expected to fail\n${result.stdout.slice(-3000)}`);
    return `${result.stdout}\n${result.stderr}`;
}

describe("fake aws provider plugin: every type onedigest uses, its ForceNew fields and AWS's rules, through the real engine", function () {
    let clouds: FakeClouds;
    let scratch = "";
    let env: NodeJS.ProcessEnv = {};
    const stacks: Stack[] = [];

    async function stack(name: string, config: Record<string, unknown>): Promise<Stack> {
        const s = await Stack.create(name, FIXTURE, scratch, env, { "aws:region": "eu-west-1", ...config });
        await s.setConfig("aws-fake-check:secretValue", `value-of-${name}-1`, { secret: true });
        stacks.push(s);
        return s;
    }

    const table = <T>(name: string) => clouds.table<T>("aws", name);

    before(async function () {
        assert.ok(process.env.NODE_EXTRA_CA_CERTS, "no registry certificate: run through scripts/test.sh (scripts/docker-env.sh makes it)");
        scratch = tempDir("onedigest-fakes-aws-");
        clouds = await FakeClouds.start(path.join(scratch, "clouds"));
        const backend = path.join(scratch, "state");
        fs.mkdirSync(backend);
        env = cliEnv(backend, clouds.env());
    });

    after(async function () {
        for (const s of stacks.reverse()) await s.remove().catch((err: Error) => console.log(`      cleanup of ${s.name}: ${err.message.split("\n")[0]}`));
        await clouds?.stop();
        if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
    });

    let main: Stack;

    it("up serves every type and invoke, with the outputs the program reads; a second preview is empty", async () => {
        main = await stack("main", { "aws-fake-check:names": "fx" });
        ok(await main.up(), "pulumi up main");
        const out = (await main.outputs()) as Record<string, string>;
        assert.strictEqual(out.proxyEndpoint, `https://${clouds.ecr.host}`);
        assert.strictEqual(out.userName, "AWS");
        assert.strictEqual(out.repositoryUrl, `${clouds.ecr.host}/fx-repo`);
        assert.match(out.taskArn, /^arn:aws:ecs:eu-west-1:123456789012:task-definition\/fx-task:1$/);
        assert.strictEqual(out.zoneOfFirstSubnet, "eu-west-1a");
        assert.match(out.albDns, /^fx-alb-\d+\.eu-west-1\.elb\.amazonaws\.com$/);
        assert.match(out.bucketName, /^fx-bundles-\d{17}[0-9a-f]{9}$/);
        assert.match(out.environmentCname, /^fx-env\.eba-[0-9a-f]{8}\.eu-west-1\.elasticbeanstalk\.com$/);
        assert.strictEqual(out.solutionStack, "64bit Amazon Linux 2023 v4.4.1 running Docker");
        assert.match(out.expressEndpoint, /^https:\/\/fx-[0-9a-f]{32}\.ecs\.eu-west-1\.on\.aws$/);
        const types = new Set((await main.resourceTypes()).filter((t) => t.startsWith("aws:")));
        assert.strictEqual(types.size, 33, [...types].join("\n"));
        // An Application Load Balancer's environment reports it by ARN; the alarm and dashboard are the account's.
        assert.match(String(out.environmentLoadBalancer), /^arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer\/app\/awseb-AWSEB-[0-9A-F]{10}\/[0-9a-f]{16}$/);
        assert.strictEqual(out.alarmArn, "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:fx-errors");
        assert.strictEqual(out.dashboardArn, "arn:aws:cloudwatch::123456789012:dashboard/fx-dashboard");
        // The service's deployments watch the alarm by name, and the alarm tells the topic.
        const [svc] = Object.values(table<ServiceRecord>("ecs.services"));
        assert.deepStrictEqual(svc.alarms, { alarmNames: ["fx-errors"], enable: true, rollback: true });
        const alarm = table<AlarmRecord>("cloudwatch.alarms")["eu-west-1/fx-errors"];
        assert.deepStrictEqual(alarm.config.alarmActions, [out.topicArn]);
        assert.match(JSON.stringify(alarm.config.metricQueries), /"metric":\{"dimensions":\{"LoadBalancer":"app\/fx-alb\/[0-9a-f]{16}","TargetGroup":"targetgroup\/fx-tg\/[0-9a-f]{16}"\}/);
        const subscriptions = Object.values(table<SubscriptionRecord>("sns.subscriptions"));
        assert.deepStrictEqual(subscriptions.map((x) => [x.topicArn, x.protocol, x.endpoint, x.pendingConfirmation]), [[out.topicArn, "email", "oncall@example.com", true]]);
        ok(await main.cli(["preview", "--expect-no-changes"]), "pulumi preview --expect-no-changes (state read back from the store)");
    });

    it("a ForceNew field replaces (a new task definition revision, the old one INACTIVE, a new deployment) and another updates in place", async () => {
        await main.setAll({ "aws-fake-check:taskCpu": "512", "aws-fake-check:logRetention": 14 });
        const preview = ok(await main.cli(["preview", "--json"]), "pulumi preview --json");
        const steps = changedSteps(preview.stdout);
        assert.ok(steps.includes("replace aws:ecs/taskDefinition:TaskDefinition task"), steps.join("\n"));
        assert.ok(steps.includes("update aws:cloudwatch/logGroup:LogGroup logs"), steps.join("\n"));
        const logsBefore = Object.keys(table("logs.groups"));
        ok(await main.up(), "pulumi up (cpu and retention)");
        const revisions = Object.values(table<TaskDefinitionRecord>("ecs.taskDefinitions"))
            .filter((t) => t.family === "fx-task")
            .map((t) => `${t.revision} ${t.status}`)
            .sort();
        assert.deepStrictEqual(revisions, ["1 INACTIVE", "2 ACTIVE"]);
        const [service] = Object.values(table<ServiceRecord>("ecs.services"));
        assert.deepStrictEqual(
            service.deployments.map((d) => d.taskDefinition.split(":").pop()),
            ["1", "2"],
        );
        assert.deepStrictEqual(Object.keys(table("logs.groups")), logsBefore, "the log group was updated, not replaced");
        // Express: a new image is a new revision of the same service (its endpoint kept); a change
        // of the scaling alone is not sent (the provider's update leaves it out).
        const express = () => Object.values(table<ExpressServiceRecord>("ecs.expressServices"))[0];
        const endpoint = express().endpoint;
        await main.setAll({ "aws-fake-check:expressMax": 3 });
        ok(await main.up(), "pulumi up (Express scaling alone)");
        assert.deepStrictEqual([express().revisions.length, express().scaling.maxTaskCount], [1, 2]);
        await main.setAll({ "aws-fake-check:expressTag": "v2", "aws-fake-check:expressMax": 4 });
        ok(await main.up(), "pulumi up (Express image and scaling)");
        assert.deepStrictEqual(express().revisions.map((r) => r.image.split(":").pop()), ["v1", "v2"]);
        assert.deepStrictEqual([express().endpoint, express().scaling.maxTaskCount, express().status], [endpoint, 4, "ACTIVE"]);
        assert.strictEqual(table<{ retentionInDays: number }>("logs.groups")["eu-west-1//fx/fx-logs"].retentionInDays, 14);
    });

    it("Beanstalk refuses a version and option settings in one UpdateEnvironment; one at a time goes through", async () => {
        await main.setAll({ "aws-fake-check:ebVersion": "v2", "aws-fake-check:ebLogLevel": "DEBUG" });
        const both = failed(await main.up(), "pulumi up (version and settings)");
        assert.match(both, /updating Elastic Beanstalk Environment \(e-[0-9a-f]{10}\): operation error Elastic Beanstalk: UpdateEnvironment, https response error StatusCode: 400, RequestID: [0-9a-f-]{36}, InvalidParameterCombination: You cannot update the application version and make configuration updates at the same time/);
        const [env] = Object.values(table<EnvironmentRecord>("elasticbeanstalk.environments"));
        assert.strictEqual(env.versionLabel, "fx-app-v1");
        await main.setAll({ "aws-fake-check:ebLogLevel": "INFO" });
        ok(await main.up(), "pulumi up (version only)");
        await main.setAll({ "aws-fake-check:ebLogLevel": "DEBUG" });
        ok(await main.up(), "pulumi up (settings only)");
        const [after] = Object.values(table<EnvironmentRecord>("elasticbeanstalk.environments"));
        assert.deepStrictEqual(
            after.updates.map((u) => [u.versionLabel ?? null, u.optionSettings === undefined ? null : "settings"]),
            [
                ["fx-app-v2", null],
                [null, "settings"],
            ],
        );
    });

    it("CloudWatch refuses metric math returning two series and more datapoints than periods; a threshold updates the alarm in place; another email is another subscription, the pending one left until its topic goes", async () => {
        await main.setAll({ "aws-fake-check:alarmTwoSeries": true });
        assert.match(failed(await main.up(), "pulumi up (two series)"), /updating CloudWatch Metric Alarm \(fx-errors\): operation error CloudWatch: PutMetricAlarm, https response error StatusCode: 400, RequestID: [0-9a-f-]{36}, ValidationError: Exactly one element of the metrics list should return data\./);
        await main.setAll({ "aws-fake-check:alarmTwoSeries": false, "aws-fake-check:alarmDatapoints": 4 });
        assert.match(failed(await main.up(), "pulumi up (4 datapoints of 3 periods)"), /PutMetricAlarm, .*ValidationError: DatapointsToAlarm must be less than or equal to EvaluationPeriods/);
        await main.setAll({ "aws-fake-check:alarmDatapoints": 3, "aws-fake-check:alarmThreshold": 2.5, "aws-fake-check:dashboardTitle": "Requests per minute" });
        const steps = changedSteps(ok(await main.cli(["preview", "--json"]), "pulumi preview --json").stdout);
        assert.ok(steps.includes("update aws:cloudwatch/metricAlarm:MetricAlarm errors") && steps.includes("update aws:cloudwatch/dashboard:Dashboard dashboard"), steps.join("\n"));
        ok(await main.up(), "pulumi up (threshold and dashboard)");
        assert.strictEqual(table<AlarmRecord>("cloudwatch.alarms")["eu-west-1/fx-errors"].config.threshold, 2.5);
        assert.match(JSON.stringify(table<DashboardRecord>("cloudwatch.dashboards")["fx-dashboard"].body), /Requests per minute/);

        await main.setAll({ "aws-fake-check:alertEmail": "team@example.com" });
        const replace = changedSteps(ok(await main.cli(["preview", "--json"]), "pulumi preview --json").stdout);
        assert.ok(replace.includes("replace aws:sns/topicSubscription:TopicSubscription email"), replace.join("\n"));
        ok(await main.up(), "pulumi up (another email)");
        const endpoints = Object.values(table<SubscriptionRecord>("sns.subscriptions")).map((x) => `${x.endpoint} ${x.pendingConfirmation ? "pending" : "confirmed"}`).sort();
        assert.deepStrictEqual(endpoints, ["oncall@example.com pending", "team@example.com pending"], "a pending subscription cannot be unsubscribed: it stays until its topic is deleted");
        ok(await main.cli(["preview", "--expect-no-changes"]), "pulumi preview --expect-no-changes");
    });

    it("a second stack with the same names fails as AWS fails each clash, adopts the ECS cluster, and cannot delete it; an unserved type or function fails loudly", async () => {
        const other = await stack("clash", { "aws-fake-check:names": "fx", "aws-fake-check:variant": "unserved", "aws-fake-check:unserved": "type" });
        assert.match(failed(await other.up(), "pulumi up of an unserved type"), /error: unknown resource type aws:sqs\/queue:Queue: the fake aws provider serves only aws:ecr\/repository:Repository, /);
        await other.setAll({ "aws-fake-check:unserved": "invoke" });
        assert.match(
            failed(await other.up(), "pulumi up of an unserved function"),
            /unknown function aws:index\/getCallerIdentity:getCallerIdentity: the fake aws provider answers only aws:ecr\/getAuthorizationToken:getAuthorizationToken, /,
        );
        await other.setAll({ "aws-fake-check:variant": "clash" });
        const out = failed(await other.cli(["up", "--yes", "--skip-preview", "--continue-on-error"], { timeoutMs: 600_000 }), "pulumi up of a clashing stack");
        for (const expected of [
            /creating ECR Repository \(fx-repo\): operation error ECR: CreateRepository, https response error StatusCode: 400, RequestID: [0-9a-f-]+, RepositoryAlreadyExistsException: The specified repository already exists in the specified registry\./,
            /creating Secrets Manager Secret \(fx-secret\): operation error Secrets Manager: CreateSecret, .*ResourceExistsException: A resource with the ID you requested already exists\./,
            /creating IAM Role \(fx-role\): operation error IAM: CreateRole, https response error StatusCode: 409, .*EntityAlreadyExists/,
            /creating IAM Instance Profile \(fx-profile\): operation error IAM: CreateInstanceProfile, .*EntityAlreadyExists/,
            /ELBv2 Load Balancer \(fx-alb\) already exists/,
            /ELBv2 Target Group \(fx-tg\) already exists/,
            /creating CloudWatch Logs Log Group \(\/fx\/fx-logs\): .*ResourceAlreadyExistsException/,
            /creating Elastic Beanstalk Application \(fx-app\): .*InvalidParameterValue: Application fx-app already exists\./,
            /Resource Already Exists: Express Gateway Service fx-express-main-1 already exists in cluster default/,
        ]) {
            assert.match(out, expected);
        }
        // Not refused, taken over: the topic is shared, the alarm and the dashboard overwritten by the second stack.
        assert.deepStrictEqual(table<TopicRecord>("sns.topics")["arn:aws:sns:eu-west-1:123456789012:fx-alerts"].owners.length, 2);
        const alarm = table<AlarmRecord>("cloudwatch.alarms")["eu-west-1/fx-errors"];
        assert.deepStrictEqual([alarm.owners.length, alarm.config.threshold, alarm.config.metricName], [2, 50, "RequestCount"], "the second stack's configuration replaced the first's");
        assert.deepStrictEqual(table<DashboardRecord>("cloudwatch.dashboards")["fx-dashboard"].body, { widgets: [] });
        // ECS answers CreateCluster for a name in use with that cluster: the second stack adopts it…
        const clusters = Object.values(table<{ name: string; owners: string[] }>("ecs.clusters"));
        assert.deepStrictEqual(clusters.map((c) => [c.name, c.owners.length]), [["fx-cluster", 2]]);
        // …and cannot delete it while the first stack's service runs there.
        const destroy = failed(await other.cli(["destroy", "--yes", "--skip-preview", "--continue-on-error"], { timeoutMs: 600_000 }), "destroy of the clashing stack");
        assert.match(destroy, /deleting ECS Cluster \(arn:aws:ecs:eu-west-1:123456789012:cluster\/fx-cluster\): operation error ECS: DeleteCluster, .*ClusterContainsServicesException/);
        ok(await other.cli(["state", "delete", "urn:pulumi:clash::aws-fake-check::aws:ecs/cluster:Cluster::cluster", "--yes"], { config: false }), "pulumi state delete of the adopted cluster");
        ok(await other.cli(["destroy", "--yes", "--skip-preview"], { timeoutMs: 600_000 }), "destroy of the rest of the clashing stack");
    });

    it("an IAM role whose attached policy outlived it (retainOnDelete) cannot be deleted: DeleteConflict; force_detach_policies lets it go", async () => {
        await main.setAll({ "aws-fake-check:retainAttachment": true });
        ok(await main.up(), "pulumi up (the attachment retained on delete)");
        const out = failed(await main.cli(["destroy", "--yes", "--skip-preview", "--continue-on-error"], { timeoutMs: 600_000 }), "destroy with the attachment retained");
        assert.match(out, /deleting IAM Role \(fx-role\): operation error IAM: DeleteRole, https response error StatusCode: 409, .*DeleteConflict/);
        assert.deepStrictEqual(table<{ attached: string[] }>("iam.roles")["fx-role"].attached, ["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"]);
        // The Express service went first (it waits for its role's policy), so ECS could take it down…
        const deleted = table<ExpressServiceRecord>("ecs.expressServices")["arn:aws:ecs:eu-west-1:123456789012:service/default/fx-express-main-1"];
        assert.strictEqual(deleted.status, "INACTIVE");
        await main.setAll({ "aws-fake-check:retainAttachment": false, "aws-fake-check:forceDetach": true });
        // …and ECS still lists it: the provider refuses its name for the next service.
        const held = failed(await main.cli(["up", "--yes", "--skip-preview", "--continue-on-error"], { timeoutMs: 600_000 }), "pulumi up with the Express name held");
        assert.match(held, /Resource Already Exists: Express Gateway Service fx-express-main-1 already exists in cluster default/);
        await main.setAll({ "aws-fake-check:expressGeneration": "2" });
        ok(await main.up(), "pulumi up (force_detach_policies, another Express name)");
    });

    it("an ECR repository holding images is deleted only with force; destroy removes everything else, and a 7-day secret keeps its name", async () => {
        await main.setAll({ "aws-fake-check:repoForce": false });
        ok(await main.up(), "pulumi up (no force)");
        await pushImage(clouds.ecr.host, clouds.logins.ecr, "fx-repo", "v1");
        const refused = failed(await main.cli(["destroy", "--yes", "--skip-preview"], { timeoutMs: 600_000 }), "destroy with an image in the repository");
        assert.match(refused, /deleting ECR Repository \(fx-repo\): operation error ECR: DeleteRepository, .*RepositoryNotEmptyException: The specified repository contains images/);
        assert.ok(table("ecr.repositories")["eu-west-1/fx-repo"], "the repository is still there");
        assert.deepStrictEqual(await clouds.ecr.tags("fx-repo", clouds.logins.ecr), ["v1"]);

        // The Express service that destroy did delete still holds its name: the next one takes another.
        await main.setAll({ "aws-fake-check:repoForce": true, "aws-fake-check:recoveryWindow": 7, "aws-fake-check:expressGeneration": "3" });
        ok(await main.up(), "pulumi up (force, a recovery window)");
        ok(await main.cli(["destroy", "--yes", "--skip-preview"], { timeoutMs: 600_000 }), "destroy with force");
        assert.deepStrictEqual(await clouds.ecr.tags("fx-repo", clouds.logins.ecr), [], "force took the images with the repository");
        // What AWS keeps after a delete: deregistered revisions, inactive clusters and services,
        // terminated environments, secrets in their recovery window, the default network.
        const kept = (name: string, r: Record<string, unknown>): boolean =>
            ["ec2.vpcs", "ec2.subnets", "ec2.seededRegions"].includes(name) || r.status === "INACTIVE" || r.status === "Terminated" || r.deletionDate !== undefined;
        const left = Object.entries(clouds.state("aws").tables).flatMap(([name, records]) => Object.entries(records).filter(([, r]) => !kept(name, r)).map(([key]) => `${name} ${key}`));
        assert.deepStrictEqual(left, [], "destroy left nothing but what AWS keeps");
        const secret = table<SecretRecord>("secretsmanager.secrets")["eu-west-1/fx-secret"];
        assert.ok(secret?.deletionDate, "the secret is scheduled for deletion");

        const again = await stack("again", { "aws-fake-check:names": "fx" });
        const held = failed(await again.up(), "pulumi up while the name is held");
        assert.match(held, /creating Secrets Manager Secret \(fx-secret\): .*InvalidRequestException: You can't create this secret because a secret with this name is already scheduled for deletion\./);
        clouds.advanceClock("aws", 8 * DAY_MS);
        ok(await again.up(), "pulumi up after the recovery window");
    });

    it("lookups find what destroy retained and the next up imports it; a missing or scheduled secret is not found, in the provider's words", async () => {
        const adopt = await stack("adopt", { "aws-fake-check:names": "fx2", "aws-fake-check:variant": "adopt", "aws-fake-check:withGone": true });
        ok(await adopt.up(), "pulumi up with nothing to adopt");
        const first = (await adopt.outputs()) as { secretArn: string; lookups: Record<string, { error?: string }> };
        assert.match(first.lookups.repo.error ?? "", /reading ECR Repository \(fx2-repo\): couldn't find resource/);
        assert.match(first.lookups.secret.error ?? "", /reading Secrets Manager Secret \(fx2-secret\): couldn't find resource/);
        const created = table<SecretRecord>("secretsmanager.secrets")["eu-west-1/fx2-secret"];

        ok(await adopt.cli(["destroy", "--yes", "--skip-preview"], { timeoutMs: 600_000 }), "destroy (the repository and the secret retained)");
        assert.ok(table("ecr.repositories")["eu-west-1/fx2-repo"], "the retained repository is still there");
        assert.strictEqual(table<SecretRecord>("secretsmanager.secrets")["eu-west-1/fx2-secret"].deletionDate, undefined, "the retained secret was never deleted");
        assert.ok(table<SecretRecord>("secretsmanager.secrets")["eu-west-1/fx2-gone"].deletionDate, "the other secret is scheduled for deletion");

        await adopt.setAll({ "aws-fake-check:withGone": false });
        // The engine imports each, then updates what the import could not read back (a secret's
        // recovery window, a repository's force_delete: no properties of the cloud's).
        ok(await adopt.up(), "pulumi up adopting what was retained");
        const second = (await adopt.outputs()) as { secretArn: string; repositoryUrl: string; lookups: Record<string, { error?: string; name?: string; arn?: string }> };
        assert.deepStrictEqual(second.lookups.repo, { name: "fx2-repo", url: `${clouds.ecr.host}/fx2-repo` });
        assert.deepStrictEqual(second.lookups.secret, { arn: created.arn, name: "fx2-secret" });
        assert.match(second.lookups.gone.error ?? "", /reading Secrets Manager Secret \(fx2-gone\): couldn't find resource/);
        assert.strictEqual(second.secretArn, created.arn, "the stack holds the secret it had, not a new one");
        const creates = clouds
            .state("aws")
            .log.filter((e) => e.op === "create" && ["fx2-repo", "fx2-secret"].some((name) => e.id === name || e.id === created.arn))
            .map((e) => e.type)
            .sort();
        assert.deepStrictEqual(creates, ["aws:ecr/repository:Repository", "aws:secretsmanager/secret:Secret"], "each was created once, by the first up");
        ok(await adopt.cli(["preview", "--expect-no-changes"]), "pulumi preview --expect-no-changes after the import");
    });
});
