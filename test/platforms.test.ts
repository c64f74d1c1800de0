/**
 * Platform defaults that hold in real accounts and organizations: networks that may not exist,
 * deployments that keep capacity, CPU architectures that match, proxies the app may trust, and
 * either of Docker's image stores.
 */
import * as assert from "assert";

import { RELEASE_CONFIG, instanceArchitecture } from "../providers/awsBeanstalk";
import { TARGET_KINDS } from "../providers";
import { beforeProgram, configError } from "./helpers";
import { PUSH, isAppContainer, bundleFiles, reveal, runProgram, runProgramError, type ProgramRun } from "./mocks";

const AWS = { "aws:region": "eu-west-1" };
const CLOUD = { ...AWS, "gcp:project": "onedigest-test", "gcp:region": "europe-west1", herokuApiKey: "hk-key" };

describe("platforms: ECS networks", () => {
    it("an account without a default VPC gets a message naming ecs.vpcId and ecs.subnetIds, before any resource", async () => {
        const { message, resources } = await runProgramError({ targets: ["aws-ecs"], ...AWS }, { invokes: { "aws:ec2/getVpcs:getVpcs": () => ({ ids: [], id: "eu-west-1" }) } });
        assert.match(message, /^onedigest:ecs\.vpcId: got \(not set\); expected a VPC with public subnets in two availability zones \(this account has no default VPC in eu-west-1\)\. Fix: pulumi config set --path onedigest:ecs\.vpcId vpc-0123456789abcdef0 && pulumi config rm --path onedigest:ecs\.subnetIds && pulumi config set --path 'onedigest:ecs\.subnetIds\[0\]' subnet-0123456789abcdef0/);
        // Looked up first: the message is the program's own, not a provider's serialization error, and nothing was registered.
        assert.deepStrictEqual(resources, []);
    });

    it("looks the default VPC up with a filter that may match nothing (not a lookup that fails)", async () => {
        const run = await runProgram({ targets: ["aws-ecs"], ...AWS });
        assert.ok(run.mocks.invokes.some((i) => i.token === "aws:ec2/getVpcs:getVpcs" && JSON.stringify(i.inputs).includes("is-default")));
        assert.ok(!run.mocks.invokes.some((i) => i.token === "aws:ec2/getVpc:getVpc"));
    });

    it("configured subnets in one availability zone are refused, before any resource", async () => {
        const subnetIds = ["subnet-0123456789abcdef0", "subnet-0123456789abcde10"];
        const { message, resources } = await runProgramError({ targets: ["aws-ecs"], ...AWS, ecs: { vpcId: "vpc-0123456789abcdef0", subnetIds } });
        assert.deepStrictEqual(resources, []);
        assert.match(
            message,
            /^onedigest:ecs\.subnetIds: got \["subnet-0123456789abcdef0","subnet-0123456789abcde10"\]; expected subnets in at least two availability zones \(an ALB needs two; these are all in eu-west-10\)\. Fix: pulumi config rm --path onedigest:ecs\.subnetIds && pulumi config set --path 'onedigest:ecs\.subnetIds\[0\]' subnet-0123456789abcdef0 && pulumi config set --path 'onedigest:ecs\.subnetIds\[1\]' subnet-0123456789abcdef1$/,
        );
    });

    it("a default VPC with one default subnet is refused: an ALB needs two zones", async () => {
        const { message, resources } = await runProgramError({ targets: ["aws-ecs"], ...AWS }, { invokes: { "aws:ec2/getSubnets:getSubnets": () => ({ ids: ["subnet-a"] }) } });
        assert.deepStrictEqual(resources, []);
        assert.match(
            message,
            /^onedigest:ecs\.vpcId: got \(not set\); expected a VPC with public subnets in two availability zones \(the default VPC in eu-west-1 has 1 default subnet\(s\); an ALB needs two zones\)/,
        );
    });

    it("tasks run in taskSubnetIds when set, else in the ALB's subnets", async () => {
        const subnetIds = ["subnet-0123456789abcdefa", "subnet-0123456789abcdefb"];
        const taskSubnetIds = ["subnet-0123456789abcdefc"];
        const networkOf = (run: ProgramRun) => run.ofType("aws:ecs/service:Service")[0].inputs.networkConfiguration as { subnets: string[]; assignPublicIp: boolean };
        // Own (private) task subnets reach AWS through their own NAT or endpoints: no public IPs there.
        const own = await runProgram({ targets: ["aws-ecs"], ...AWS, ecs: { vpcId: "vpc-0123456789abcdef0", subnetIds, taskSubnetIds } });
        assert.deepStrictEqual([networkOf(own).subnets, networkOf(own).assignPublicIp], [taskSubnetIds, false]);
        const shared = await runProgram({ targets: ["aws-ecs"], ...AWS, ecs: { vpcId: "vpc-0123456789abcdef0", subnetIds } });
        assert.deepStrictEqual([networkOf(shared).subnets, networkOf(shared).assignPublicIp], [subnetIds, true]);
    });

    it("an arm64 image runs on ARM64 Fargate tasks, an amd64 one on X86_64", async () => {
        const archOf = async (platform: string) => {
            const run = await runProgram({ targets: ["aws-ecs"], ...AWS, image: { platform } });
            return run.ofType("aws:ecs/taskDefinition:TaskDefinition")[0].inputs.runtimePlatform;
        };
        assert.deepStrictEqual(await archOf("linux/arm64"), { operatingSystemFamily: "LINUX", cpuArchitecture: "ARM64" });
        assert.deepStrictEqual(await archOf("linux/amd64"), { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" });
    });

    it("configured subnets in two zones are used for the ALB", async () => {
        const subnetIds = ["subnet-0123456789abcdefa", "subnet-0123456789abcdefb"];
        const run = await runProgram({ targets: ["aws-ecs"], ...AWS, ecs: { vpcId: "vpc-0123456789abcdef0", subnetIds } });
        assert.deepStrictEqual(run.ofType("aws:lb/loadBalancer:LoadBalancer")[0].inputs.subnets, subnetIds);
    });
});

describe("platforms: Beanstalk deployments and architectures", () => {
    it("Rolling with one instance would take the only instance out: refused", async () => {
        const { message, resources } = await runProgramError({ targets: ["aws-beanstalk"], ...AWS, beanstalk: { deploymentPolicy: "Rolling" } });
        assert.strictEqual(
            message,
            "onedigest:beanstalk.deploymentPolicy: got \"Rolling\"; expected a policy that keeps capacity while deploying with minInstances 1 (Rolling takes the only instance out): RollingWithAdditionalBatch or Immutable. Fix: pulumi config set --path onedigest:beanstalk.deploymentPolicy RollingWithAdditionalBatch",
        );
        assert.deepStrictEqual(resources, []);
    });

    it("Rolling is fine with two or more instances", async () => {
        const run = await runProgram({ targets: ["aws-beanstalk"], ...AWS, beanstalk: { deploymentPolicy: "Rolling", minInstances: 2, maxInstances: 4 } });
        const settings = run.ofType("aws:elasticbeanstalk/environment:Environment")[0].inputs.settings as Array<{ name: string; value: string }>;
        assert.strictEqual(settings.find((s) => s.name === "DeploymentPolicy")?.value, "Rolling");
    });

    it("knows Graviton instance families", () => {
        for (const t of ["t4g.small", "m7g.large", "c7gn.xlarge", "m6gd.large", "im4gn.large", "a1.medium"]) assert.strictEqual(instanceArchitecture(t), "linux/arm64", t);
        for (const t of ["t3.small", "m7i.large", "c5n.xlarge", "g5.xlarge", "inf2.xlarge", "m7a.large"]) assert.strictEqual(instanceArchitecture(t), "linux/amd64", t);
    });

    it("an arm64 image on an x86 instance type, and the reverse, are config errors", () => {
        assert.strictEqual(
            configError({ targets: ["aws-beanstalk"], image: { platform: "linux/arm64" } }, { providerConfig: (ns, key) => (ns === "aws" && key === "region" ? "eu-west-1" : undefined) }),
            "onedigest:beanstalk.instanceType: got \"t3.small\"; expected an instance type that runs linux/arm64 images (a Graviton type such as t4g.small), or set onedigest:image.platform to linux/amd64. Fix: pulumi config set --path onedigest:beanstalk.instanceType t4g.small",
        );
        assert.strictEqual(
            configError({ targets: ["aws-beanstalk"], beanstalk: { instanceType: "t4g.small" } }, { providerConfig: (ns, key) => (ns === "aws" && key === "region" ? "eu-west-1" : undefined) }),
            "onedigest:beanstalk.instanceType: got \"t4g.small\"; expected an instance type that runs linux/amd64 images (an x86 type such as t3.small), or set onedigest:image.platform to linux/arm64. Fix: pulumi config set --path onedigest:beanstalk.instanceType t3.small",
        );
    });
});

describe("platforms: the app trusts exactly the proxies in front of it", () => {
    let run: ProgramRun;
    beforeProgram(async () => {
        run = await runProgram({ targets: [...TARGET_KINDS], ...CLOUD, app: { env: { LOG_LEVEL: "INFO" } } });
    });

    /** The plain environment each platform receives. */
    function envOf(kind: (typeof TARGET_KINDS)[number]): Record<string, string> {
        const pick = (entries: Array<[string, string]>): Record<string, string> => Object.fromEntries(entries);
        switch (kind) {
            case "local":
                return pick((reveal(run.ofType("docker:index/container:Container").filter(isAppContainer)[0].inputs.envs) as string[]).map((e) => e.split("=", 2) as [string, string]));
            case "heroku":
                return pick(Object.entries(reveal(run.ofType("pulumi-nodejs:dynamic/heroku:App")[0].inputs.configVars) as Record<string, string>));
            case "aws-ecs": {
                const [container] = JSON.parse(String(run.ofType("aws:ecs/taskDefinition:TaskDefinition")[0].inputs.containerDefinitions)) as Array<{ environment: Array<{ name: string; value: string }> }>;
                return pick(container.environment.map((e) => [e.name, e.value]));
            }
            case "aws-beanstalk": {
                // The environment's settings, and the release's own (IMAGE_ID) from its bundle.
                const settings = run.ofType("aws:elasticbeanstalk/environment:Environment")[0].inputs.settings as Array<{ namespace: string; name: string; value: string }>;
                const release = JSON.parse(bundleFiles(run.ofType("aws:s3/bucketObjectv2:BucketObjectv2")[0])[RELEASE_CONFIG]) as { option_settings: Array<{ namespace: string; option_name: string; value: string }> };
                return pick([
                    ...settings.filter((s) => s.namespace === "aws:elasticbeanstalk:application:environment").map((s): [string, string] => [s.name, s.value]),
                    ...release.option_settings.filter((s) => s.namespace === "aws:elasticbeanstalk:application:environment").map((s): [string, string] => [s.option_name, s.value]),
                ]);
            }
            case "aws-ecs-express": {
                const container = run.ofType("aws:ecs/expressGatewayService:ExpressGatewayService")[0].inputs.primaryContainer as { environments: Array<{ name: string; value: string }> };
                return pick(container.environments.map((e) => [e.name, e.value]));
            }
            case "gcp-cloudrun": {
                const containers = (run.ofType("gcp:cloudrunv2/service:Service")[0].inputs.template as { containers: Array<{ envs: Array<{ name: string; value?: string }> }> }).containers;
                return pick(containers[0].envs.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
            }
        }
    }

    const expected: Record<(typeof TARGET_KINDS)[number], [string | undefined, string | undefined]> = {
        // Published on 127.0.0.1 with nothing in front: forwarded headers are a client's to forge.
        local: ["0", undefined],
        heroku: ["1", undefined],
        "aws-ecs": ["1", undefined],
        // The ALB, then nginx on the instance (which appends to X-Forwarded-For only).
        "aws-beanstalk": ["2", "1"],
        // Express's load balancer.
        "aws-ecs-express": ["1", undefined],
        "gcp-cloudrun": ["1", undefined],
    };
    for (const kind of TARGET_KINDS) {
        it(kind, () => {
            const env = envOf(kind);
            assert.deepStrictEqual([env.PROXY_FIX_COUNT, env.PROXY_FIX_PROTO_COUNT], expected[kind]);
        });
    }

    it("every target tells its app the image ID it runs (IMAGE_ID, reported by /healthcheck)", () => {
        for (const kind of TARGET_KINDS.filter((k) => k !== "heroku")) assert.strictEqual(envOf(kind).IMAGE_ID, run.outputs.imageId, kind);
        // Heroku: set by the release, after the image's own release succeeded (test/heroku.test.ts).
        assert.strictEqual(envOf("heroku").IMAGE_ID, undefined);
    });

    it("a stack cannot override the hop counts through app.env", () => {
        assert.match(configError({ app: { env: { PROXY_FIX_COUNT: "5" } } }), /^onedigest:app\.env\.PROXY_FIX_COUNT: got "PROXY_FIX_COUNT"; expected a name other than .*PROXY_FIX_COUNT, PROXY_FIX_PROTO_COUNT, IMAGE_ID, CANONICAL_HOST \(set by onedigest\)/);
    });
});

describe("platforms: HTTPS where a target has TLS, redirected to a host it knows", () => {
    const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    const ecsEnv = (run: ProgramRun) =>
        Object.fromEntries(
            (JSON.parse(String(run.ofType("aws:ecs/taskDefinition:TaskDefinition")[0].inputs.containerDefinitions)) as Array<{ environment: Array<{ name: string; value: string }> }>)[0].environment.map((e) => [e.name, e.value]),
        );
    const beanstalkEnv = (run: ProgramRun) =>
        Object.fromEntries(
            (run.ofType("aws:elasticbeanstalk/environment:Environment")[0].inputs.settings as Array<{ namespace: string; name: string; value: string }>)
                .filter((s) => s.namespace === "aws:elasticbeanstalk:application:environment")
                .map((s) => [s.name, s.value]),
        );

    it("ECS with a certificate: HTTPS on, redirects to the domain", async () => {
        const env = ecsEnv(await runProgram({ targets: ["aws-ecs"], ...AWS, ecs: { certificateArn: CERT, domain: "app.example.com" } }));
        assert.deepStrictEqual([env.FORCE_HTTPS, env.CANONICAL_HOST], ["1", "app.example.com"]);
    });

    it("ECS without one: no redirect to a TLS it does not have", async () => {
        assert.strictEqual(ecsEnv(await runProgram({ targets: ["aws-ecs"], ...AWS })).FORCE_HTTPS, undefined);
    });

    it("Beanstalk with a certificate: HTTPS on, redirects to the domain; without one, neither", async () => {
        const env = beanstalkEnv(await runProgram({ targets: ["aws-beanstalk"], ...AWS, beanstalk: { certificateArn: CERT, domain: "eb.example.com" } }));
        assert.deepStrictEqual([env.FORCE_HTTPS, env.CANONICAL_HOST], ["1", "eb.example.com"]);
        const plain = beanstalkEnv(await runProgram({ targets: ["aws-beanstalk"], ...AWS }));
        assert.deepStrictEqual([plain.FORCE_HTTPS, plain.CANONICAL_HOST], [undefined, undefined]);
    });

    it("Beanstalk's URL: https on the domain with a certificate, else http on the environment's CNAME", async () => {
        const urlOf = async (beanstalk: Record<string, unknown>) => (await runProgram({ targets: ["aws-beanstalk"], ...AWS, beanstalk })).outputs.url;
        assert.strictEqual(await urlOf({ certificateArn: CERT, domain: "eb.example.com" }), "https://eb.example.com");
        assert.strictEqual(await urlOf({}), "http://onedigest-aws-beanstalk-env.eu-west-1.elasticbeanstalk.com");
    });

    it("Heroku: HTTPS on (every app has TLS), unless the stack turns it off", async () => {
        const vars = async (env: Record<string, string>) =>
            (await runProgram({ targets: ["heroku"], herokuApiKey: "k", app: { env } })).ofType("pulumi-nodejs:dynamic/heroku:App")[0].inputs.configVars;
        const forceHttps = async (env: Record<string, string>) => (reveal(await vars(env)) as Record<string, string>).FORCE_HTTPS;
        assert.strictEqual(await forceHttps({}), "1");
        assert.strictEqual(await forceHttps({ FORCE_HTTPS: "0" }), "0");
    });
});

describe("platforms: /metrics stays off the internet", () => {
    it("every target publishes the app's port and nothing else (the app serves /metrics on 9100 only)", async () => {
        const run = await runProgram({ targets: [...TARGET_KINDS], ...CLOUD });
        assert.deepStrictEqual(run.ofType("docker:index/container:Container").filter(isAppContainer)[0].inputs.ports, [{ internal: 8080, external: 8080, ip: "127.0.0.1" }]);
        const [container] = JSON.parse(String(run.ofType("aws:ecs/taskDefinition:TaskDefinition")[0].inputs.containerDefinitions)) as Array<{ portMappings: unknown[] }>;
        assert.deepStrictEqual(container.portMappings, [{ containerPort: 8080, protocol: "tcp" }]);
        for (const tg of run.ofType("aws:lb/targetGroup:TargetGroup")) assert.strictEqual(tg.inputs.port, 8080);
        const dockerrun = JSON.parse(bundleFiles(run.ofType("aws:s3/bucketObjectv2:BucketObjectv2")[0])["Dockerrun.aws.json"]) as { Ports: unknown[] };
        assert.deepStrictEqual(dockerrun.Ports, [{ ContainerPort: "8080" }]);
        const template = run.ofType("gcp:cloudrunv2/service:Service")[0].inputs.template as { containers: Array<{ ports: unknown }> };
        assert.deepStrictEqual(template.containers[0].ports, { containerPort: 8080 });
        // Heroku routes $PORT alone; no target sets METRICS_PORT to the app's port.
        for (const kind of TARGET_KINDS) assert.ok(!JSON.stringify(run.mocks.resources.map((r) => r.inputs)).includes("METRICS_PORT"), kind);
    });
});

describe("platforms: Docker's image store", () => {
    // The containerd store (fresh Docker Engine 29 and Docker Desktop 4.34+) reports a manifest
    // digest as an image's ID; the classic store, the config digest.
    const CLOUD_ALL = { targets: ["local", "heroku", "gcp-cloudrun"], ...CLOUD };

    it("the containerd store: the same config digest everywhere; the engine runs and pushes the image by its repository and manifest digest", async () => {
        const run = await runProgram(CLOUD_ALL, { store: "containerd" });
        const imageId = String(run.outputs.imageId);
        const [tag] = run.ofType("docker:index/tag:Tag");
        const manifest = String(run.mocks.state.get(tag.name)?.sourceImageId);
        assert.notStrictEqual(manifest, imageId);
        const deployments = run.outputs.deployments as Record<string, { image: string; imageId: string }>;
        for (const [kind, d] of Object.entries(deployments)) assert.strictEqual(d.imageId, imageId, kind);
        assert.strictEqual(deployments.local.image, `onedigest@${manifest}`);
        const [container] = run.ofType("docker:index/container:Container").filter(isAppContainer);
        assert.strictEqual(container.inputs.image, `onedigest@${manifest}`);
        assert.ok((reveal(container.inputs.envs) as string[]).includes(`IMAGE_ID=${imageId}`));
        for (const push of run.ofType(PUSH)) {
            assert.strictEqual(push.inputs.source, `onedigest@${manifest}`, push.name);
            assert.strictEqual(push.inputs.imageId, imageId, push.name);
        }
        assert.deepStrictEqual(run.ofType(PUSH).map((p) => p.inputs.manifest).sort(), ["any", "docker-v2"], "Heroku's registry takes Docker v2 schema 2 only");
    });

    it("the classic store: the engine's ID is the config digest, and the image runs and pushes by it", async () => {
        const run = await runProgram(CLOUD_ALL);
        const imageId = String(run.outputs.imageId);
        assert.strictEqual(run.ofType("docker:index/container:Container").filter(isAppContainer)[0].inputs.image, imageId);
        for (const push of run.ofType(PUSH)) assert.strictEqual(push.inputs.source, imageId, push.name);
    });
});

describe("platforms: a domain the user points at the load balancer", () => {
    const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    it("ECS and Beanstalk with a domain export the load balancer as origin and the record to create; without one, neither", async () => {
        const run = await runProgram({ targets: ["aws-ecs", "aws-beanstalk"], ...AWS, ecs: { certificateArn: CERT, domain: "app.example.com" }, beanstalk: { certificateArn: CERT, domain: "eb.example.com" } });
        const d = run.outputs.deployments as Record<string, Record<string, string>>;
        assert.deepStrictEqual([d["aws-ecs"].url, d["aws-ecs"].origin, d["aws-ecs"].dnsRecord], [
            "https://app.example.com",
            "onedigest-aws-ecs-alb-123.eu-west-1.elb.amazonaws.com",
            "app.example.com CNAME onedigest-aws-ecs-alb-123.eu-west-1.elb.amazonaws.com",
        ]);
        assert.deepStrictEqual([d["aws-beanstalk"].url, d["aws-beanstalk"].origin, d["aws-beanstalk"].dnsRecord], [
            "https://eb.example.com",
            "onedigest-aws-beanstalk-env.eu-west-1.elasticbeanstalk.com",
            "eb.example.com CNAME onedigest-aws-beanstalk-env.eu-west-1.elasticbeanstalk.com",
        ]);
        const plain = (await runProgram({ targets: ["aws-ecs"], ...AWS })).outputs.deployments as Record<string, Record<string, string>>;
        assert.deepStrictEqual(Object.keys(plain["aws-ecs"]).sort(), ["dashboard", "image", "imageId", "url"]);
    });
});
