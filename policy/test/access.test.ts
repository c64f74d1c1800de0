import * as assert from "assert";

import { adminStatements, checkLeastPrivilege, checkRegistryHardening } from "../rules/access";
import { TYPES } from "../rules/types";
import { res, unknown } from "./helpers";

describe("registry-hardening", () => {
    it("passes onedigest's ECR and Artifact Registry repositories", () => {
        assert.deepStrictEqual(checkRegistryHardening(res(TYPES.ecr, "ecr", { imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true } })), []);
        assert.deepStrictEqual(checkRegistryHardening(res(TYPES.artifactRegistry, "ar", { format: "DOCKER", dockerConfig: { immutableTags: true } })), []);
    });
    it("refuses ECR without scan on push or with mutable tags, each with its fix", () => {
        assert.deepStrictEqual(checkRegistryHardening(res(TYPES.ecr, "ecr", {})).map((v) => v.message), [
            `aws:ecr/repository:Repository "ecr": imageScanningConfiguration.scanOnPush is null; every image is scanned when pushed. Fix: imageScanningConfiguration: { scanOnPush: true }.`,
            `aws:ecr/repository:Repository "ecr": imageTagMutability is "MUTABLE"; a tag must never move to other bits. Fix: imageTagMutability: "IMMUTABLE".`,
        ]);
        assert.strictEqual(checkRegistryHardening(res(TYPES.ecr, "ecr", { imageTagMutability: "MUTABLE", imageScanningConfiguration: { scanOnPush: true } })).length, 1);
    });
    it("refuses an Artifact Registry Docker repository with mutable tags; other formats are not Docker", () => {
        assert.match(checkRegistryHardening(res(TYPES.artifactRegistry, "ar", { format: "DOCKER" }))[0].message, /"ar": dockerConfig\.immutableTags is null/);
        assert.deepStrictEqual(checkRegistryHardening(res(TYPES.artifactRegistry, "npm", { format: "NPM" })), []);
        assert.deepStrictEqual(checkRegistryHardening(res(TYPES.artifactRegistry, "ar", { format: "DOCKER", dockerConfig: unknown })), []);
    });
});

describe("iam-least-privilege", () => {
    const doc = (...Statement: unknown[]) => JSON.stringify({ Version: "2012-10-17", Statement });
    it("finds Allow * on * in any statement form", () => {
        assert.deepStrictEqual(adminStatements(JSON.parse(doc({ Effect: "Allow", Action: "*", Resource: "*" }))), [0]);
        assert.deepStrictEqual(adminStatements(JSON.parse(doc({ Effect: "Allow", Action: ["s3:GetObject"], Resource: "*" }, { Effect: "Allow", Action: ["*:*"], Resource: ["*"] }))), [1]);
        assert.deepStrictEqual(adminStatements({ Statement: { Effect: "Allow", Action: "*", Resource: "*" } }), [0]);
        assert.deepStrictEqual(adminStatements(JSON.parse(doc({ Effect: "Deny", Action: "*", Resource: "*" }))), []);
        assert.deepStrictEqual(adminStatements(JSON.parse(doc({ Effect: "Allow", Action: "*", Resource: "arn:aws:s3:::b/*" }))), []);
    });
    it("passes onedigest's grants (a named action on *, the token call, is not administrator access)", () => {
        const policy = doc({ Effect: "Allow", Action: ["ecr:BatchGetImage"], Resource: ["arn:aws:ecr:eu-west-1:1:repository/r"] }, { Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] });
        assert.deepStrictEqual(checkLeastPrivilege(res(TYPES.rolePolicy, "access", { role: unknown, policy })), []);
        assert.deepStrictEqual(checkLeastPrivilege(res(TYPES.rolePolicy, "access", { policy: unknown })), []);
    });
    it("refuses * on * in role policies, managed policies and a role's inline policies", () => {
        const admin = doc({ Effect: "Allow", Action: "*", Resource: "*" });
        assert.deepStrictEqual(checkLeastPrivilege(res(TYPES.rolePolicy, "admin", { policy: admin })).map((v) => v.message), [
            `aws:iam/rolePolicy:RolePolicy "admin": policy Statement[0] allows Action "*" on Resource "*" (administrator access). Fix: name the actions and the resources this role needs (for example secretsmanager:GetSecretValue on the one secret's ARN).`,
        ]);
        assert.strictEqual(checkLeastPrivilege(res(TYPES.iamPolicy, "managed", { policy: admin })).length, 1);
        assert.match(checkLeastPrivilege(res(TYPES.role, "role", { inlinePolicies: [{ name: "x", policy: admin }] }))[0].message, /"role": inlinePolicies\[0\]\.policy Statement\[0\]/);
    });
});
