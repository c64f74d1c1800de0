/**
 * The exact inputs of the Cloud Run service, the local container and the AWS resources the two AWS
 * targets share, on a dev stack and a production one (the shapes each platform would receive).
 */
import * as assert from "assert";

import { isProductionStack, plainEnv } from "../providers/shared";
import { beforeProgram } from "./helpers";
import { TEST_SECRET, inputsOf, runProgram, type ProgramRun } from "./mocks";

const inputs = inputsOf;

const GCP = { "gcp:project": "onedigest-test", "gcp:region": "europe-west1" };
const R = "onedigest-gcp-cloudrun";

describe("gcp-cloudrun: every resource's inputs, exactly", () => {
    let run: ProgramRun;
    beforeProgram(async () => {
        run = await runProgram({ targets: ["gcp-cloudrun"], ...GCP });
    });

    it("APIs, kept on destroy", () => {
        for (const api of ["run", "artifactregistry", "secretmanager", "iam"]) {
            assert.deepStrictEqual(inputs(run, `${R}-api-${api}`), { disableOnDestroy: false, project: "onedigest-test", service: `${api}.googleapis.com` });
        }
    });

    it("secret, registry and runtime account", () => {
        assert.deepStrictEqual(inputs(run, `${R}-secret-key`), { project: "onedigest-test", replication: { auto: {} }, secretId: "onedigest-test-secret-key" });
        assert.deepStrictEqual(inputs(run, `${R}-secret-key-version`), { secret: `${R}-secret-key-id`, secretData: TEST_SECRET });
        assert.deepStrictEqual(inputs(run, `${R}-repository`), {
            description: "Images of onedigest, deployed by digest",
            dockerConfig: { immutableTags: true },
            format: "DOCKER",
            location: "europe-west1",
            project: "onedigest-test",
            repositoryId: "onedigest-test",
        });
        assert.deepStrictEqual(inputs(run, `${R}-runtime`), { accountId: "onedigest-test-run", displayName: "onedigest (test) Cloud Run runtime", project: "onedigest-test" });
        assert.deepStrictEqual(inputs(run, `${R}-secret-access`), {
            member: "serviceAccount:onedigest-test-run@onedigest-test.iam.gserviceaccount.com",
            project: "onedigest-test",
            role: "roles/secretmanager.secretAccessor",
            secretId: "onedigest-test-secret-key",
        });
    });

    it("the service", () => {
        const deployment = (run.outputs.deployments as Record<string, { image: string }>)["gcp-cloudrun"];
        const probe = { httpGet: { path: "/healthcheck", port: 8080 } };
        assert.deepStrictEqual(inputs(run, `${R}-service`), {
            deletionProtection: false,
            description: "onedigest Flask app",
            ingress: "INGRESS_TRAFFIC_ALL",
            invokerIamDisabled: true,
            location: "europe-west1",
            name: "onedigest-test",
            project: "onedigest-test",
            template: {
                containers: [
                    {
                        envs: [
                            { name: "PROXY_FIX_COUNT", value: "1" },
                            { name: "IMAGE_ID", value: run.outputs.imageId },
                            { name: "SECRET_KEY", valueSource: { secretKeyRef: { secret: "onedigest-test-secret-key", version: "1" } } },
                        ],
                        image: deployment.image,
                        livenessProbe: { ...probe, failureThreshold: 3, periodSeconds: 15, timeoutSeconds: 3 },
                        ports: { containerPort: 8080 },
                        resources: { cpuIdle: true, limits: { cpu: "1", memory: "512Mi" }, startupCpuBoost: true },
                        startupProbe: { ...probe, failureThreshold: 15, periodSeconds: 2, timeoutSeconds: 1 },
                    },
                ],
                maxInstanceRequestConcurrency: 8,
                scaling: { maxInstanceCount: 10, minInstanceCount: 0 },
                serviceAccount: "onedigest-test-run@onedigest-test.iam.gserviceaccount.com",
                timeout: "60s",
            },
        });
    });

    it("every resource is a child of the service's component", () => {
        for (const r of run.mocks.resources.filter((x) => x.name.startsWith(`${R}-`))) assert.strictEqual(run.mocks.parents.get(r.name), R, r.name);
    });

    it("pushes under the service's own name", () => {
        assert.strictEqual(run.mocks.resources.filter((r) => r.name === `${R}-registry-push`).length, 1);
    });

    it("sorts the app's environment by name", async () => {
        const sorted = await runProgram({ targets: ["gcp-cloudrun"], ...GCP, app: { env: { ZED: "1", ALPHA: "2" } } });
        const envs = ((inputsOf(sorted, `${R}-service`).template as { containers: Array<{ envs: Array<{ name: string }> }> }).containers[0].envs).map((e) => e.name);
        assert.deepStrictEqual(envs, ["ALPHA", "PROXY_FIX_COUNT", "ZED", "IMAGE_ID", "SECRET_KEY"]);
    });
});

describe("local: the container, exactly", () => {
    it("on loopback, read-only, no capabilities, bounded logs and memory", async () => {
        const run = await runProgram({ targets: ["local"] });
        const id = run.outputs.imageId as string;
        assert.deepStrictEqual(inputs(run, "onedigest-local-container"), {
            capabilities: { drops: ["ALL"] },
            envs: [`IMAGE_ID=${id}`, "PORT=8080", "PROXY_FIX_COUNT=0", `SECRET_KEY=${TEST_SECRET}`],
            // The image's own probe, every 500 ms while the container starts (the mocked engine is API 1.51).
            healthcheck: {
                tests: ["CMD", "python3", "-c", "import os,sys,urllib.request as u; sys.exit(0 if u.urlopen('http://127.0.0.1:%s/healthcheck' % os.environ.get('PORT', '8080'), timeout=2).status == 200 else 1)"],
                interval: "10s",
                timeout: "3s",
                startPeriod: "10s",
                startInterval: "500ms",
                retries: 3,
            },
            image: id,
            logDriver: "json-file",
            logOpts: { "max-file": "3", "max-size": "10m" },
            memory: 512,
            memorySwap: 512,
            name: "onedigest-test",
            // Its Prometheus reaches the metrics port here, by this alias (localPrometheus.test.ts).
            networksAdvanced: [{ aliases: ["app"], name: "onedigest-test-net" }],
            ports: [{ external: 8080, internal: 8080, ip: "127.0.0.1" }],
            readOnly: true,
            restart: "unless-stopped",
            securityOpts: ["no-new-privileges:true"],
            stopTimeout: 8,
            wait: true,
            waitTimeout: 60,
        });
        assert.strictEqual(run.mocks.parents.get("onedigest-local-container"), "onedigest-local");
        // The container has a fixed name: the old one must go before its replacement starts.
        assert.strictEqual(run.mocks.lifecycle.get("onedigest-local-container")?.deleteBeforeReplace, true);
    });
});

describe("aws: the repository and secret both AWS targets share", () => {
    for (const [stack, prod] of [["dev", false], ["prod", true]] as const) {
        it(`${stack}: ${prod ? "kept on destroy, a 7-day recovery window" : "deleted with the stack, at once"}`, async () => {
            const run = await runProgram({ targets: ["aws-ecs"], "aws:region": "eu-west-1" }, { stack });
            assert.deepStrictEqual(inputs(run, "onedigest-ecr-repository"), {
                encryptionConfigurations: [{ encryptionType: "AES256" }],
                forceDelete: !prod,
                imageScanningConfiguration: { scanOnPush: true },
                imageTagMutability: "IMMUTABLE",
                name: `onedigest-${stack}`,
            });
            assert.deepStrictEqual(JSON.parse(String(inputs(run, "onedigest-ecr-lifecycle").policy)), {
                rules: [{ rulePriority: 1, description: "keep the last 20 images (rollback by digest stays possible)", selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 20 }, action: { type: "expire" } }],
            });
            assert.deepStrictEqual(inputs(run, "onedigest-secret-key-secret"), { description: `SECRET_KEY of onedigest (${stack})`, name: `onedigest-${stack}-secret-key`, recoveryWindowInDays: prod ? 7 : 0 });
            assert.deepStrictEqual(inputs(run, "onedigest-secret-key-value"), { secretId: "onedigest-secret-key-secret-id", secretString: TEST_SECRET });
            for (const name of ["onedigest-ecr-repository", "onedigest-ecr-lifecycle", "onedigest-ecr-registry-push"]) assert.strictEqual(run.mocks.parents.get(name), "onedigest-ecr", name);
            for (const name of ["onedigest-secret-key-secret", "onedigest-secret-key-value"]) assert.strictEqual(run.mocks.parents.get(name), "onedigest-secret-key", name);
            assert.strictEqual(run.mocks.lifecycle.get("onedigest-ecr-repository")?.retainOnDelete, prod);
        });
    }
});

describe("heroku: every resource's inputs, exactly", () => {
    let run: ProgramRun;
    const H = "onedigest-heroku";
    const APP = /^onedigest-test-[0-9a-f]{6}$/;
    beforeProgram(async () => {
        run = await runProgram({ targets: ["heroku"], herokuApiKey: "hk-key" });
    });
    const plain = (name: string): Record<string, unknown> => {
        const { __provider, ...rest } = inputs(run, name);
        assert.strictEqual(typeof __provider, "string", `${name} is a dynamic resource`);
        return rest;
    };

    it("the app: its name, region, and config vars (SECRET_KEY among them, as a secret)", () => {
        const app = plain(`${H}-app`);
        assert.match(String(app.name), APP);
        assert.deepStrictEqual({ ...app, name: undefined }, {
            name: undefined,
            apiKey: "hk-key",
            apiUrl: "https://api.heroku.com",
            configVars: { FORCE_HTTPS: "1", PROXY_FIX_COUNT: "1", SECRET_KEY: TEST_SECRET },
            region: "us",
        });
    });

    it("the push: to the app's web repository as a Docker v2 manifest, after the app exists, logged in as _ with the API key", () => {
        const app = String(plain(`${H}-app`).name);
        const id = run.outputs.imageId as string;
        assert.deepStrictEqual(plain(`${H}-registry-push`), {
            imageId: id,
            manifest: "docker-v2",
            password: "hk-key",
            platform: "linux/amd64",
            repository: `registry.heroku.com/${app}/web`,
            server: "registry.heroku.com",
            source: id,
            tag: id.replace(":", "-"),
            username: "_",
        });
        assert.ok((run.mocks.dependencies.get(`${H}-registry-push`) ?? []).includes(`${H}-app`));
        assert.deepStrictEqual(run.mocks.lifecycle.get(`${H}-registry-push`)?.additionalSecretOutputs, ["password"]);
    });

    it("the release: the built image ID and the pushed digest, one basic dyno, after the push", () => {
        const release = plain(`${H}-release`);
        const deployment = (run.outputs.deployments as Record<string, { image: string }>).heroku;
        assert.deepStrictEqual(release, {
            apiKey: "hk-key",
            apiUrl: "https://api.heroku.com",
            app: plain(`${H}-app`).name,
            imageId: run.outputs.imageId,
            manifestDigest: deployment.image.split("@")[1],
            quantity: 1,
            registryUrl: "https://registry.heroku.com",
            size: "basic",
            timeoutSeconds: 300,
        });
        assert.ok((run.mocks.dependencies.get(`${H}-release`) ?? []).includes(`${H}-registry-push`));
        for (const name of [`${H}-app`, `${H}-registry-push`, `${H}-release`]) assert.strictEqual(run.mocks.parents.get(name), H, name);
        // What the engine stores from the provider's outputs: the key and the app's config vars only as secrets.
        assert.deepStrictEqual(run.mocks.lifecycle.get(`${H}-app`)?.additionalSecretOutputs, ["configVars", "apiKey"]);
        assert.deepStrictEqual(run.mocks.lifecycle.get(`${H}-release`)?.additionalSecretOutputs, ["apiKey"]);
    });

    it("the URL has no trailing slash", () => {
        assert.match(String(run.outputs.url), /^https:\/\/onedigest-test-[0-9a-f]{6}-0123456789ab\.herokuapp\.com$/);
    });
});

describe("every target's component registers its url, image and imageId as outputs", () => {
    const CLOUD = { ...GCP, "aws:region": "eu-west-1", herokuApiKey: "hk-key" };
    it("one component per target; the shared ECR its repository and image, the shared secret its ARN", async () => {
        const run = await runProgram({ targets: ["local", "heroku", "aws-ecs", "aws-beanstalk", "gcp-cloudrun"], ...CLOUD });
        const deployments = run.outputs.deployments as Record<string, Record<string, unknown>>;
        for (const [kind, deployment] of Object.entries(deployments)) {
            assert.deepStrictEqual(run.mocks.componentOutputs.get(`onedigest-${kind}`), deployment, kind);
        }
        const ecr = run.mocks.componentOutputs.get("onedigest-ecr");
        assert.deepStrictEqual(ecr, { repositoryUrl: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/onedigest-test", image: deployments["aws-ecs"].image });
        assert.deepStrictEqual(run.mocks.componentOutputs.get("onedigest-secret-key"), {
            arn: "arn:aws:mock:eu-west-1:123456789012:secretsmanager/secret/onedigest-secret-key-secret",
            versionId: run.mocks.state.get("onedigest-secret-key-value")?.versionId,
        });
    });
});

describe("resource options the engine acts on", () => {
    it("ECS leaves the running count to the autoscaler; Beanstalk moves to a newer solution stack as a managed update", async () => {
        const run = await runProgram({ targets: ["aws-ecs", "aws-beanstalk"], "aws:region": "eu-west-1" });
        assert.deepStrictEqual(run.mocks.lifecycle.get("onedigest-aws-ecs-service")?.ignoreChanges, ["desiredCount"]);
        assert.deepStrictEqual(run.mocks.lifecycle.get("onedigest-aws-beanstalk-env")?.ignoreChanges, ["solutionStackName"]);
        for (const r of run.mocks.resources.filter((x) => !["onedigest-aws-ecs-service", "onedigest-aws-beanstalk-env"].includes(x.name))) {
            assert.deepStrictEqual(run.mocks.lifecycle.get(r.name)?.ignoreChanges ?? [], [], r.name);
        }
    });

    it("the generated secret's value and the local container's env are secret outputs", async () => {
        const run = await runProgram({ targets: ["local"], secretKey: null });
        assert.deepStrictEqual(run.mocks.lifecycle.get("onedigest-secret-key")?.additionalSecretOutputs, ["value"]);
        assert.deepStrictEqual(run.mocks.lifecycle.get("onedigest-local-container")?.additionalSecretOutputs, ["envs"]);
        assert.deepStrictEqual(inputsOf(run, "onedigest-secret-key"), { __provider: inputsOf(run, "onedigest-secret-key").__provider, bytes: 32 });
    });
});

describe("shared helpers", () => {
    it("a stack is a production stack when its name starts with prod", () => {
        for (const stack of ["prod", "prod-eu", "production"]) assert.strictEqual(isProductionStack(stack), true, stack);
        for (const stack of ["dev", "preprod", "staging-prod"]) assert.strictEqual(isProductionStack(stack), false, stack);
    });

    it("sets PROXY_FIX_PROTO_COUNT only where it differs from PROXY_FIX_COUNT", () => {
        const app = { name: "a", description: "", port: 8080, env: {}, stack: "dev", production: false, secretKey: undefined as never, healthPath: "/healthcheck" };
        assert.deepStrictEqual(plainEnv(app, { port: false, proxies: 1, schemeProxies: 1 }), { PROXY_FIX_COUNT: "1" });
        assert.deepStrictEqual(plainEnv(app, { port: false, proxies: 2, schemeProxies: 1 }), { PROXY_FIX_COUNT: "2", PROXY_FIX_PROTO_COUNT: "1" });
    });
});
