import * as assert from "assert";

import { checkCircuitBreaker, checkDropInvalidHeaders } from "../rules/advice";
import { TYPES } from "../rules/types";
import { res, unknown } from "./helpers";

describe("advisory policies", () => {
    it("ecs-circuit-breaker wants enable and rollback", () => {
        assert.deepStrictEqual(checkCircuitBreaker(res(TYPES.ecsService, "svc", { deploymentCircuitBreaker: { enable: true, rollback: true } })), []);
        assert.deepStrictEqual(checkCircuitBreaker(res(TYPES.ecsService, "svc", { deploymentCircuitBreaker: unknown })), []);
        assert.strictEqual(
            checkCircuitBreaker(res(TYPES.ecsService, "svc", { deploymentCircuitBreaker: { enable: true, rollback: false } }))[0].message,
            `aws:ecs/service:Service "svc": deploymentCircuitBreaker is {"enable":true,"rollback":false}; a failing deployment should stop and roll back by itself. Fix: deploymentCircuitBreaker: { enable: true, rollback: true }.`,
        );
        assert.strictEqual(checkCircuitBreaker(res(TYPES.ecsService, "svc", {})).length, 1);
    });
    it("alb-drop-invalid-headers wants dropInvalidHeaderFields", () => {
        assert.deepStrictEqual(checkDropInvalidHeaders(res(TYPES.loadBalancers[0], "alb", { dropInvalidHeaderFields: true })), []);
        assert.match(checkDropInvalidHeaders(res(TYPES.loadBalancers[0], "alb", {}))[0].message, /"alb": dropInvalidHeaderFields is null/);
    });
});
