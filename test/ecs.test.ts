/**
 * aws-ecs, whole: the exact inputs of every resource of the service (the shapes AWS would receive;
 * mocks cannot say how AWS acts on them), without and with TLS.
 */
import * as assert from "assert";

import { LIMITS, physicalName } from "../providers/names";
import { beforeProgram } from "./helpers";
import { inputsOf, runProgram, type ProgramRun } from "./mocks";

const AWS = { "aws:region": "eu-west-1" };
const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-123456789abc";
const C = "onedigest-aws-ecs";
const ARN = (kind: string, name: string): string => `arn:aws:mock:eu-west-1:123456789012:${kind}/${name}`;
const ALB_ARN = `arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/${C}-alb`;
const TG_ARN = ARN("lb/targetGroup", `${C}-tg`);
const TCP = { ipProtocol: "tcp" };

const inputs = inputsOf;

describe("aws-ecs: every resource's inputs, exactly", () => {
    let run: ProgramRun;
    beforeProgram(async () => {
        run = await runProgram({ targets: ["aws-ecs"], ...AWS });
    });

    it("network: the ALB open on 80 to the world, the tasks open only to the ALB, out only HTTPS", () => {
        assert.deepStrictEqual(inputs(run, `${C}-alb-sg`), { description: "onedigest load balancer", vpcId: "vpc-0default" });
        assert.deepStrictEqual(inputs(run, `${C}-task-sg`), { description: "onedigest tasks: only the load balancer may connect", vpcId: "vpc-0default" });
        const albSg = `${C}-alb-sg-id`;
        const taskSg = `${C}-task-sg-id`;
        assert.deepStrictEqual(inputs(run, `${C}-alb-in-80-v4`), { ...TCP, securityGroupId: albSg, fromPort: 80, toPort: 80, cidrIpv4: "0.0.0.0/0", description: "public HTTP(S)" });
        assert.deepStrictEqual(inputs(run, `${C}-alb-in-80-v6`), { ...TCP, securityGroupId: albSg, fromPort: 80, toPort: 80, cidrIpv6: "::/0", description: "public HTTP(S)" });
        assert.deepStrictEqual(inputs(run, `${C}-alb-out`), { ...TCP, securityGroupId: albSg, fromPort: 8080, toPort: 8080, referencedSecurityGroupId: taskSg, description: "to the tasks" });
        assert.deepStrictEqual(inputs(run, `${C}-task-in`), { ...TCP, securityGroupId: taskSg, fromPort: 8080, toPort: 8080, referencedSecurityGroupId: albSg, description: "from the load balancer only" });
        assert.deepStrictEqual(inputs(run, `${C}-task-out`), { ...TCP, securityGroupId: taskSg, fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", description: "AWS APIs over HTTPS" });
        assert.strictEqual(run.mocks.resources.filter((r) => r.name.startsWith(`${C}-alb-in-443`)).length, 0);
    });

    it("load balancer, target group and the one HTTP listener", () => {
        assert.deepStrictEqual(inputs(run, `${C}-alb`), {
            name: "onedigest-test",
            loadBalancerType: "application",
            internal: false,
            securityGroups: [`${C}-alb-sg-id`],
            subnets: ["subnet-a", "subnet-b", "subnet-c"],
            dropInvalidHeaderFields: true,
            idleTimeout: 60,
        });
        const tg = inputs(run, `${C}-tg`);
        assert.match(String(tg.name), /^onedigest-test-[0-9a-f]{6}$/);
        assert.deepStrictEqual(
            { ...tg, name: undefined },
            {
                name: undefined,
                vpcId: "vpc-0default",
                port: 8080,
                protocol: "HTTP",
                targetType: "ip",
                deregistrationDelay: 15,
                healthCheck: { path: "/healthcheck", matcher: "200", interval: 10, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
            },
        );
        assert.deepStrictEqual(inputs(run, `${C}-http`), { loadBalancerArn: ALB_ARN, port: 80, protocol: "HTTP", defaultActions: [{ type: "forward", targetGroupArn: TG_ARN }] });
    });

    it("cluster, logs and roles", () => {
        assert.deepStrictEqual(inputs(run, `${C}-cluster`), { name: "onedigest-test", settings: [{ name: "containerInsights", value: "enabled" }] });
        assert.deepStrictEqual(inputs(run, `${C}-logs`), { name: "/onedigest/onedigest-test", retentionInDays: 30 });
        const ecsTasks = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }] });
        assert.deepStrictEqual(inputs(run, `${C}-execution-role`), { name: "onedigest-test-ecs-execution", assumeRolePolicy: ecsTasks });
        assert.deepStrictEqual(inputs(run, `${C}-task-role`), { name: "onedigest-test-ecs-task", assumeRolePolicy: ecsTasks });
        assert.deepStrictEqual(inputs(run, `${C}-execution-policy`), { role: "onedigest-test-ecs-execution", policyArn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy" });
        assert.deepStrictEqual(JSON.parse(String(inputs(run, `${C}-execution-secret`).policy)), {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [ARN("secretsmanager/secret", "onedigest-secret-key-secret")] }],
        });
        assert.strictEqual(inputs(run, `${C}-execution-secret`).role, `${C}-execution-role-id`);
    });

    it("task definition and its one container", () => {
        const task = inputs(run, `${C}-task`);
        const [container] = JSON.parse(String(task.containerDefinitions)) as Array<Record<string, unknown>>;
        assert.deepStrictEqual({ ...task, containerDefinitions: undefined }, {
            containerDefinitions: undefined,
            family: "onedigest-test",
            cpu: "256",
            memory: "512",
            networkMode: "awsvpc",
            requiresCompatibilities: ["FARGATE"],
            runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
            executionRoleArn: ARN("iam/role", `${C}-execution-role`),
            taskRoleArn: ARN("iam/role", `${C}-task-role`),
            volumes: [{ name: "tmp" }],
        });
        const deployment = (run.outputs.deployments as Record<string, { image: string }>)["aws-ecs"];
        assert.deepStrictEqual(container, {
            name: "app",
            image: deployment.image,
            essential: true,
            portMappings: [{ containerPort: 8080, protocol: "tcp" }],
            environment: [
                { name: "CANONICAL_HOST", value: `${C}-alb-123.eu-west-1.elb.amazonaws.com` },
                { name: "IMAGE_ID", value: run.outputs.imageId },
                { name: "PORT", value: "8080" },
                { name: "PROXY_FIX_COUNT", value: "1" },
            ],
            secrets: [{ name: "SECRET_KEY", valueFrom: `${ARN("secretsmanager/secret", "onedigest-secret-key-secret")}:::${String(run.mocks.state.get("onedigest-secret-key-value")?.versionId)}` }],
            logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/onedigest/onedigest-test", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "app" } },
            stopTimeout: 13,
            privileged: false,
            readonlyRootFilesystem: true,
            user: "10001:10001",
            mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
        });
    });

    it("service and its CPU autoscaling", () => {
        assert.deepStrictEqual(inputs(run, `${C}-service`), {
            name: "onedigest-test",
            cluster: ARN("ecs/cluster", `${C}-cluster`),
            taskDefinition: ARN("ecs/taskDefinition", `${C}-task`),
            launchType: "FARGATE",
            desiredCount: 2,
            networkConfiguration: { subnets: ["subnet-a", "subnet-b", "subnet-c"], securityGroups: [`${C}-task-sg-id`], assignPublicIp: true },
            loadBalancers: [{ targetGroupArn: TG_ARN, containerName: "app", containerPort: 8080 }],
            deploymentCircuitBreaker: { enable: true, rollback: true },
            // A deployment during which any of the three alarms fires rolls back (test/monitoring.test.ts).
            alarms: { alarmNames: ["onedigest-test-ecs-unhealthy", "onedigest-test-ecs-errors", "onedigest-test-ecs-latency"], enable: true, rollback: true },
            deploymentMinimumHealthyPercent: 100,
            deploymentMaximumPercent: 200,
            healthCheckGracePeriodSeconds: 30,
            waitForSteadyState: true,
            propagateTags: "SERVICE",
            enableEcsManagedTags: true,
        });
        const dimension = { serviceNamespace: "ecs", scalableDimension: "ecs:service:DesiredCount", resourceId: "service/onedigest-test/onedigest-test" };
        assert.deepStrictEqual(inputs(run, `${C}-scaling`), { ...dimension, minCapacity: 2, maxCapacity: 4 });
        assert.deepStrictEqual(inputs(run, `${C}-cpu`), {
            ...dimension,
            policyType: "TargetTrackingScaling",
            targetTrackingScalingPolicyConfiguration: { predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" }, targetValue: 60, scaleInCooldown: 120, scaleOutCooldown: 60 },
        });
    });

    it("every resource is a child of the service's component", () => {
        for (const r of run.mocks.resources.filter((x) => x.name.startsWith(`${C}-`))) assert.strictEqual(run.mocks.parents.get(r.name), C, r.name);
    });

    it("pushes with a token for the repository's own registry", () => {
        const tokens = run.mocks.invokes.filter((i) => i.token === "aws:ecr/getAuthorizationToken:getAuthorizationToken").map((i) => i.inputs);
        assert.deepStrictEqual(tokens, [{ registryId: "123456789012" }]);
    });

    it("names the target group by what forces its replacement: port, protocol, target type and VPC", async () => {
        const tgName = (r: ProgramRun) => String(inputs(r, `${C}-tg`).name);
        assert.strictEqual(tgName(run), physicalName(["onedigest", "test"], { ...LIMITS.targetGroup, unique: "8080/HTTP/ip/default" }));
        const inVpc = await runProgram({ targets: ["aws-ecs"], ...AWS, ecs: { vpcId: "vpc-0123456789abcdef0", subnetIds: ["subnet-0123456789abcdefa", "subnet-0123456789abcdefb"] } });
        assert.strictEqual(tgName(inVpc), physicalName(["onedigest", "test"], { ...LIMITS.targetGroup, unique: "8080/HTTP/ip/vpc-0123456789abcdef0" }));
        const otherPort = await runProgram({ targets: ["aws-ecs"], ...AWS, app: { port: 9090 } });
        assert.strictEqual(tgName(otherPort), physicalName(["onedigest", "test"], { ...LIMITS.targetGroup, unique: "9090/HTTP/ip/default" }));
    });

    it("a load balancer name never starts with the reserved internal-", async () => {
        const albName = async (name: string) => String(inputs(await runProgram({ targets: ["aws-ecs"], ...AWS, app: { name } }), `${name}-aws-ecs-alb`).name);
        assert.strictEqual(await albName("internal-api"), "lb-internal-api-test");
        assert.strictEqual(await albName("svc-internal-api"), "svc-internal-api-test");
    });

    it("finds the default VPC and its default subnets with filters, not lookups that fail", () => {
        const asked = (token: string) => run.mocks.invokes.filter((i) => i.token === token).map((i) => i.inputs);
        assert.deepStrictEqual(asked("aws:ec2/getVpcs:getVpcs"), [{ filters: [{ name: "is-default", values: ["true"] }] }]);
        assert.deepStrictEqual(asked("aws:ec2/getSubnets:getSubnets"), [{ filters: [{ name: "vpc-id", values: ["vpc-0default"] }, { name: "default-for-az", values: ["true"] }] }]);
    });
});

describe("aws-ecs: a default VPC with exactly two default subnets", () => {
    it("is enough: the ALB and the tasks use both", async () => {
        const run = await runProgram({ targets: ["aws-ecs"], ...AWS }, { invokes: { "aws:ec2/getSubnets:getSubnets": () => ({ ids: ["subnet-a", "subnet-b"] }) } });
        assert.deepStrictEqual(inputs(run, `${C}-alb`).subnets, ["subnet-a", "subnet-b"]);
        assert.deepStrictEqual((inputs(run, `${C}-service`).networkConfiguration as { subnets: string[] }).subnets, ["subnet-a", "subnet-b"]);
    });
});

describe("aws-ecs: with a certificate", () => {
    let run: ProgramRun;
    beforeProgram(async () => {
        run = await runProgram({ targets: ["aws-ecs"], ...AWS, ecs: { certificateArn: CERT, domain: "app.example.com" } });
    });

    it("opens 443 as well, serves HTTPS with the TLS 1.3 policy and redirects HTTP", () => {
        for (const family of ["v4", "v6"]) {
            assert.deepStrictEqual(inputs(run, `${C}-alb-in-443-${family}`), {
                ...TCP,
                securityGroupId: `${C}-alb-sg-id`,
                fromPort: 443,
                toPort: 443,
                ...(family === "v4" ? { cidrIpv4: "0.0.0.0/0" } : { cidrIpv6: "::/0" }),
                description: "public HTTP(S)",
            });
        }
        assert.deepStrictEqual(inputs(run, `${C}-https`), { loadBalancerArn: ALB_ARN, port: 443, protocol: "HTTPS", sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06", certificateArn: CERT, defaultActions: [{ type: "forward", targetGroupArn: TG_ARN }] });
        assert.deepStrictEqual(inputs(run, `${C}-http`), { loadBalancerArn: ALB_ARN, port: 80, protocol: "HTTP", defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }] });
        assert.strictEqual(run.outputs.url, "https://app.example.com");
    });

    it("the service waits for both listeners", () => {
        const deps = run.mocks.dependencies.get(`${C}-service`) ?? [];
        assert.ok(deps.includes(`${C}-https`) && deps.includes(`${C}-http`), deps.join(", "));
    });
});

describe("aws-ecs: a rotated key rolls out", () => {
    it("a new SECRET_KEY is a new secret version, so a new task definition (the service deploys it); never the key in plain", async () => {
        const taskOf = async (secretKey: string) => {
            const run = await runProgram({ targets: ["aws-ecs"], "aws:region": "eu-west-1", secretKey });
            return String(run.ofType("aws:ecs/taskDefinition:TaskDefinition")[0].inputs.containerDefinitions);
        };
        const [first, second] = [await taskOf("first-key-0123456789abcdef"), await taskOf("second-key-0123456789abcdef")];
        assert.notStrictEqual(first, second);
        for (const [task, key] of [[first, "first-key"], [second, "second-key"]]) assert.ok(!task.includes(key), "the task definition holds the key");
        const valueFrom = (task: string) => (JSON.parse(task) as Array<{ secrets: Array<{ valueFrom: string }> }>)[0].secrets[0].valueFrom;
        assert.strictEqual(valueFrom(first).split(":::")[0], valueFrom(second).split(":::")[0], "the same secret");
    });
});
