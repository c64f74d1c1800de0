/**
 * The fake's ECS Express service (test/engine/fakes/aws/ecsExpress.ts) called directly over a
 * store of its own, for the rules the engine tests do not reach: a name held while ECS lists the
 * service (INACTIVE too), by a plain ECS service as well; an infrastructure role ECS cannot assume;
 * one subnet; a cluster that is not there; a service left DRAINING when its role lost the Express
 * policy first; a scaling change alone not sent; the endpoint kept across updates. Through the real
 * engine: fakes-aws.test.ts and day2/express.scenario.ts.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

import { CloudError, Store, type Op, type Props } from "./fakes/framework";
import { CLUSTERS, SERVICES } from "./fakes/aws/ecs";
import { EXPRESS_INFRASTRUCTURE_POLICY, EXPRESS_SERVICES, RULES, SERVICE_FORCE_NEW, expressGatewayService, type ExpressServiceRecord } from "./fakes/aws/ecsExpress";
import { ROLES } from "./fakes/aws/iam";
import { tempDir } from "./cli";

const TYPE = "aws:ecs/expressGatewayService:ExpressGatewayService";
const INFRA = "arn:aws:iam::123456789012:role/x-infra";
const ecsTrust = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ecs.amazonaws.com" }, Action: "sts:AssumeRole" }] });

function inputs(extra: Props = {}): Props {
    return {
        serviceName: "x-svc",
        executionRoleArn: "arn:aws:iam::123456789012:role/x-exec",
        infrastructureRoleArn: INFRA,
        cpu: "256",
        memory: "512",
        healthCheckPath: "/healthcheck",
        primaryContainer: { image: "r@sha256:1", containerPort: 8080, environments: [{ name: "A", value: "1" }] },
        scalingTargets: [{ autoScalingMetric: "AVERAGE_CPU", autoScalingTargetValue: 60, minTaskCount: 1, maxTaskCount: 2 }],
        ...extra,
    };
}

describe("fake aws: the ECS Express service, called directly", () => {
    let dir = "";
    let store: Store;

    /** Runs one module call as the provider does: one transaction, a CloudError rolls it back. */
    function call<T>(fn: (op: Op) => T): T {
        return store.transact((db) => fn({ db, type: TYPE, urn: `urn:pulumi:s::p::${TYPE}::svc`, name: "svc", config: { region: "eu-west-1" }, setting: (key) => (key === "region" ? "eu-west-1" : undefined), now: () => db.now() }));
    }
    const refusal = (fn: () => unknown): CloudError => {
        try {
            fn();
        } catch (err) {
            if (err instanceof CloudError) return err;
            throw err;
        }
        assert.fail("expected a refusal");
    };
    const record = (id: string) => store.snapshot().tables[EXPRESS_SERVICES][id] as ExpressServiceRecord;

    beforeEach(() => {
        dir = tempDir("onedigest-fake-express-");
        store = new Store(path.join(dir, "aws.json"));
        call((op) => {
            op.db.table(ROLES)["x-infra"] = { name: "x-infra", arn: INFRA, uniqueId: "AROA", assumeRolePolicy: ecsTrust, attached: [EXPRESS_INFRASTRUCTURE_POLICY], inline: {}, createDate: "" };
        });
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("replaces on exactly the provider's RequiresReplace fields", () => {
        assert.deepStrictEqual(SERVICE_FORCE_NEW.map((f) => f.field), ["infrastructureRoleArn", "serviceName"]);
    });

    it("makes the endpoint once, keeps it across updates, and deploys a new revision per changed configuration", () => {
        const { id, outs } = call((op) => expressGatewayService.create(op, inputs()));
        assert.strictEqual(id, "arn:aws:ecs:eu-west-1:123456789012:service/default/x-svc");
        const endpoint = (outs.ingressPaths as Array<{ accessType: string; endpoint: string }>)[0];
        assert.strictEqual(endpoint.accessType, "PUBLIC");
        assert.match(endpoint.endpoint, /^https:\/\/x--[0-9a-f]{32}\.ecs\.eu-west-1\.on\.aws$/);
        assert.strictEqual(outs.cluster, "default");
        call((op) => expressGatewayService.update(op, id, inputs(), inputs({ primaryContainer: { image: "r@sha256:2", containerPort: 8080, environments: [{ name: "A", value: "1" }] } })));
        assert.deepStrictEqual(record(id).revisions.map((r) => r.image), ["r@sha256:1", "r@sha256:2"]);
        assert.strictEqual(record(id).endpoint, endpoint.endpoint);
    });

    it("a change of the scaling alone is not sent; with another change it is", () => {
        const { id } = call((op) => expressGatewayService.create(op, inputs()));
        const more = [{ autoScalingMetric: "AVERAGE_CPU", autoScalingTargetValue: 60, minTaskCount: 1, maxTaskCount: 5 }];
        call((op) => expressGatewayService.update(op, id, inputs(), inputs({ scalingTargets: more })));
        assert.deepStrictEqual([record(id).revisions.length, record(id).scaling.maxTaskCount], [1, 2]);
        call((op) => expressGatewayService.update(op, id, inputs(), inputs({ scalingTargets: more, cpu: "512", memory: "1024" })));
        assert.deepStrictEqual([record(id).revisions.length, record(id).scaling.maxTaskCount], [2, 5]);
    });

    it("holds a name while ECS lists the service: ACTIVE, and INACTIVE after its delete", () => {
        const { id } = call((op) => expressGatewayService.create(op, inputs()));
        const clash = refusal(() => call((op) => expressGatewayService.create(op, inputs())));
        assert.deepStrictEqual([clash.status, clash.message], [0, "Resource Already Exists: Express Gateway Service x-svc already exists in cluster default"]);
        call((op) => expressGatewayService.delete(op, id, {}));
        assert.strictEqual(record(id).status, "INACTIVE");
        assert.strictEqual(call((op) => expressGatewayService.read(op, id, {})), undefined, "gone as far as the provider is concerned");
        assert.strictEqual(refusal(() => call((op) => expressGatewayService.create(op, inputs()))).message, clash.message);
        // Another name is free.
        call((op) => expressGatewayService.create(op, inputs({ serviceName: "x-svc-2" })));
    });

    it("a plain ECS service of that name in the default cluster holds it too", () => {
        call((op) => {
            op.db.table(SERVICES)["arn:aws:ecs:eu-west-1:123456789012:service/default/x-svc"] = { arn: "arn:aws:ecs:eu-west-1:123456789012:service/default/x-svc", name: "x-svc", status: "ACTIVE" };
        });
        assert.match(refusal(() => call((op) => expressGatewayService.create(op, inputs()))).message, /already exists in cluster default/);
    });

    it("refuses an infrastructure role ECS cannot assume, one subnet, and a cluster that is not there", () => {
        call((op) => {
            op.db.table(ROLES)["x-tasks"] = { name: "x-tasks", arn: "arn:aws:iam::123456789012:role/x-tasks", uniqueId: "AROB", assumeRolePolicy: ecsTrust.replace("ecs.amazonaws.com", "ecs-tasks.amazonaws.com"), attached: [], inline: {}, createDate: "" };
        });
        const trust = refusal(() => call((op) => expressGatewayService.create(op, inputs({ infrastructureRoleArn: "arn:aws:iam::123456789012:role/x-tasks" }))));
        assert.deepStrictEqual([trust.code, trust.message], [RULES.infrastructureRoleTrust.error.code, "Cannot assume role arn:aws:iam::123456789012:role/x-tasks"]);
        const subnets = refusal(() => call((op) => expressGatewayService.create(op, inputs({ networkConfigurations: [{ subnets: ["subnet-a"], securityGroups: ["sg-1"] }] }))));
        assert.strictEqual(subnets.code, "InvalidParameterException");
        const cluster = refusal(() => call((op) => expressGatewayService.create(op, inputs({ cluster: "mine" }))));
        assert.strictEqual(cluster.code, "ClusterNotFoundException");
        call((op) => {
            op.db.table(CLUSTERS)["arn:aws:ecs:eu-west-1:123456789012:cluster/mine"] = { arn: "arn:aws:ecs:eu-west-1:123456789012:cluster/mine", name: "mine", region: "eu-west-1", status: "ACTIVE", owners: [] };
        });
        assert.strictEqual(call((op) => expressGatewayService.create(op, inputs({ cluster: "mine" }))).id, "arn:aws:ecs:eu-west-1:123456789012:service/mine/x-svc");
        assert.deepStrictEqual(Object.keys(store.snapshot().tables[EXPRESS_SERVICES]), ["arn:aws:ecs:eu-west-1:123456789012:service/mine/x-svc"], "a refused create leaves nothing");
    });

    it("a service whose infrastructure role lost the Express policy first is left DRAINING", () => {
        const { id } = call((op) => expressGatewayService.create(op, inputs()));
        call((op) => {
            op.db.table<{ attached: string[] }>(ROLES)["x-infra"].attached = [];
        });
        call((op) => expressGatewayService.delete(op, id, {}));
        assert.strictEqual(record(id).status, "DRAINING");
    });
});
