/** Advisory: good practice that is not one of onedigest's promises. */
import { asBoolean, field, isUnknown, named, type Resource } from "../values";
import { TYPES, type Violation } from "./types";

export function checkCircuitBreaker(r: Resource): Violation[] {
    if (r.type !== TYPES.ecsService) return [];
    const cb = r.props.deploymentCircuitBreaker;
    if (isUnknown(cb)) return [];
    if (asBoolean(field(cb, "enable")) === true && asBoolean(field(cb, "rollback")) === true) return [];
    return [{ message: `${named(r)}: deploymentCircuitBreaker is ${JSON.stringify(cb ?? null)}; a failing deployment should stop and roll back by itself. Fix: deploymentCircuitBreaker: { enable: true, rollback: true }.` }];
}

export function checkDropInvalidHeaders(r: Resource): Violation[] {
    if (!(TYPES.loadBalancers as readonly string[]).includes(r.type)) return [];
    const v = r.props.dropInvalidHeaderFields;
    if (isUnknown(v) || asBoolean(v) === true) return [];
    return [{ message: `${named(r)}: dropInvalidHeaderFields is ${JSON.stringify(v ?? null)}; headers that are not valid HTTP should not reach the app (request smuggling). Fix: dropInvalidHeaderFields: true.` }];
}
