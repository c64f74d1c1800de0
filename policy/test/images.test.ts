import * as assert from "assert";

import { checkImagesByDigest, checkOneImageId, imageIdsOf } from "../rules/images";
import { TYPES } from "../rules/types";
import { DIGEST, ID_A, ID_B, REF, bundle, containers, res, secret, unknown } from "./helpers";

const messages = (vs: Array<{ message: string }>) => vs.map((v) => v.message);

describe("images-by-digest", () => {
    it("passes every runner that names its image by digest (and the local container by image ID)", () => {
        const ok = [
            res(TYPES.taskDefinition, "task", { containerDefinitions: containers(REF) }),
            res(TYPES.cloudRunV2, "run", { template: { containers: [{ image: REF }] } }),
            res(TYPES.bucketObject, "bundle", { source: bundle(REF) }),
            res(TYPES.herokuRelease, "release", { imageId: ID_A, manifestDigest: DIGEST }),
            res(TYPES.container, "local", { image: ID_A }),
            res(TYPES.container, "local-ref", { image: REF }),
        ];
        for (const r of ok) assert.deepStrictEqual(messages(checkImagesByDigest(r)), [], r.name);
    });

    it("names the resource, the property and the fix for a tag", () => {
        assert.deepStrictEqual(messages(checkImagesByDigest(res(TYPES.taskDefinition, "task", { containerDefinitions: containers("nginx:1.27") }))), [
            `aws:ecs/taskDefinition:TaskDefinition "task": containerDefinitions[0].image is "nginx:1.27", a tag; expected repo@sha256:<64 hex>. Fix: deploy the pushed image's repo@sha256:<manifest digest> (onedigest: image.ref, or the ref a push returns), never a tag.`,
        ]);
    });

    it("refuses a tag on each runner, at the property it is set in", () => {
        const cases: Array<[ReturnType<typeof res>, string]> = [
            [res(TYPES.cloudRunV2, "run", { template: { containers: [{ image: REF }, { image: "gcr.io/p/app:latest" }] } }), "template.containers[1].image"],
            [res(TYPES.cloudRunV1, "run1", { template: { spec: { containers: [{ image: "app" }] } } }), "template.spec.containers[0].image"],
            [res(TYPES.bucketObject, "bundle", { source: bundle("repo/app:v1") }), 'source["Dockerrun.aws.json"].Image.Name'],
            [res(TYPES.container, "local", { image: "onedigest:0.1.0" }), "image"],
            [res(TYPES.herokuRelease, "release", { imageId: "latest", manifestDigest: DIGEST }), "imageId"],
            [res(TYPES.herokuRelease, "release2", { imageId: ID_A, manifestDigest: "web" }), "manifestDigest"],
        ];
        for (const [r, path] of cases) {
            const found = messages(checkImagesByDigest(r));
            assert.strictEqual(found.length, 1, `${r.name}: ${found.join("\n")}`);
            assert.ok(found[0].startsWith(`${r.type} "${r.name}": ${path} is `), found[0]);
        }
    });

    it("refuses a digest that is not sha256 and a repository-less digest on a cloud runner", () => {
        assert.strictEqual(checkImagesByDigest(res(TYPES.cloudRunV2, "run", { template: { containers: [{ image: `repo@md5:${"0".repeat(32)}` }] } })).length, 1);
        assert.strictEqual(checkImagesByDigest(res(TYPES.cloudRunV2, "run", { template: { containers: [{ image: ID_A }] } })).length, 1, "an image ID alone names no registry");
    });

    it("reads through secrets and skips what a preview does not know yet", () => {
        assert.strictEqual(checkImagesByDigest(res(TYPES.taskDefinition, "task", { containerDefinitions: secret(containers("app:latest")) })).length, 1);
        assert.deepStrictEqual(checkImagesByDigest(res(TYPES.taskDefinition, "task", { containerDefinitions: unknown })), []);
        assert.deepStrictEqual(checkImagesByDigest(res(TYPES.bucketObject, "bundle", { source: unknown })), []);
        assert.deepStrictEqual(checkImagesByDigest(res(TYPES.cloudRunV2, "run", { template: { containers: [{ image: unknown }] } })), []);
        assert.deepStrictEqual(checkImagesByDigest(res(TYPES.herokuRelease, "release", { imageId: unknown, manifestDigest: unknown })), []);
    });

    it("leaves other resources and other bucket objects alone", () => {
        assert.deepStrictEqual(checkImagesByDigest(res("aws:s3/bucket:Bucket", "b", { image: "x:latest" })), []);
        assert.deepStrictEqual(checkImagesByDigest(res(TYPES.bucketObject, "page", { content: "hello" })), []);
    });
});

describe("one-image-id", () => {
    const runners = (a: string, b: string) => [
        res(TYPES.container, "local", { image: a, envs: secret([`IMAGE_ID=${a}`, "SECRET_KEY=x"]) }),
        res(TYPES.herokuRelease, "release", { imageId: a, manifestDigest: DIGEST }),
        res(TYPES.taskDefinition, "task", { containerDefinitions: containers(REF, { IMAGE_ID: a }) }),
        res(TYPES.cloudRunV2, "run", { template: { containers: [{ image: REF, envs: [{ name: "IMAGE_ID", value: b }] }] } }),
        res(TYPES.bucketObject, "bundle", { source: bundle(REF, a) }),
    ];

    it("reads the image ID every runner declares", () => {
        const found = runners(ID_A, ID_A).flatMap(imageIdsOf).map((u) => `${u.resource.name} ${u.path}`);
        assert.deepStrictEqual(found, [
            "local image",
            "local envs[IMAGE_ID]",
            "release imageId",
            "task containerDefinitions[0].environment[IMAGE_ID]",
            "run template.containers[0].envs[IMAGE_ID]",
            'bundle source[".ebextensions/onedigest-release.config"].option_settings[IMAGE_ID]',
        ]);
    });

    it("passes one image ID across every target", () => {
        assert.deepStrictEqual(checkOneImageId(runners(ID_A, ID_A)), []);
    });

    it("names each deployment that runs another image ID", () => {
        const vs = checkOneImageId(runners(ID_A, ID_B));
        assert.deepStrictEqual(vs.map((v) => v.urn), ["urn:pulumi:dev::onedigest::gcp:cloudrunv2/service:Service::run"]);
        assert.strictEqual(
            vs[0].message,
            `gcp:cloudrunv2/service:Service "run": template.containers[0].envs[IMAGE_ID] runs ${ID_B}, but aws:ecs/taskDefinition:TaskDefinition "task" runs ${ID_A}; a stack deploys one image ID (2 here: ${ID_A}, ${ID_B}). Fix: deploy the one image the stack builds, pins or promotes to every target.`,
        );
    });

    it("takes the image most deployments run as the stack's, and the smaller ID on a tie", () => {
        const two = (first: string, second: string) => [res(TYPES.herokuRelease, "one", { imageId: first }), res(TYPES.herokuRelease, "two", { imageId: second })];
        assert.deepStrictEqual(checkOneImageId(two(ID_B, ID_A)).map((v) => v.urn), ["urn:pulumi:dev::onedigest::pulumi-nodejs:dynamic/heroku:Release::one"]);
        assert.deepStrictEqual(checkOneImageId(two(ID_A, ID_B)).map((v) => v.urn), ["urn:pulumi:dev::onedigest::pulumi-nodejs:dynamic/heroku:Release::two"]);
        assert.deepStrictEqual(checkOneImageId([...runners(ID_B, ID_A)].slice(0, 1).concat(runners(ID_A, ID_A).slice(1))).map((v) => v.urn), ["urn:pulumi:dev::onedigest::docker:index/container:Container::local", "urn:pulumi:dev::onedigest::docker:index/container:Container::local"], "its image and its IMAGE_ID");
    });

    it("leaves out a container labelled a monitor (the local target's Prometheus runs its own image)", () => {
        const prometheus = res(TYPES.container, "prometheus", { image: ID_B, labels: [{ label: "onedigest.role", value: "monitor" }] });
        assert.deepStrictEqual(checkOneImageId([...runners(ID_A, ID_A), prometheus]), []);
        const unlabelled = res(TYPES.container, "other", { image: ID_B, labels: [{ label: "onedigest.role", value: "app" }] });
        assert.deepStrictEqual(checkOneImageId([...runners(ID_A, ID_A), unlabelled]).map((v) => v.urn), ["urn:pulumi:dev::onedigest::docker:index/container:Container::other"]);
    });

    it("ignores what is not an image ID and what is unknown", () => {
        assert.deepStrictEqual(checkOneImageId([res(TYPES.container, "a", { image: REF }), res(TYPES.herokuRelease, "r", { imageId: unknown }), res(TYPES.container, "b", { image: ID_B })]), []);
    });
});
