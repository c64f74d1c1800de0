/**
 * The promises of stacks named prod*: registries outlive a destroy, deletion protection where the
 * platform has it, HTTPS on every public endpoint, log retention set.
 */
import { asBoolean, asNumber, asString, field, isUnknown, items, named, type Resource, type Value } from "../values";
import { TYPES, type Violation } from "./types";

/** Beanstalk option settings (name → value) of one namespace; undefined while unknown. */
export function beanstalkSettings(r: Resource, namespace: string): Map<string, string> | undefined {
    if (isUnknown(r.props.settings)) return undefined;
    const out = new Map<string, string>();
    for (const s of items(r.props.settings)) {
        if (asString(field(s, "namespace")) !== namespace) continue;
        const name = asString(field(s, "name"));
        const value = field(s, "value");
        if (name !== undefined) out.set(name, isUnknown(value) ? "\u0000unknown" : String(asString(value) ?? asNumber(value) ?? ""));
    }
    return out;
}

/**
 * prod-registries-retained. The analyzer protocol carries no retainOnDelete (its resource options
 * are protect, ignoreChanges, deleteBeforeReplace, aliases, additionalSecretOutputs, customTimeouts
 * and parent), so what is checked is what deletes the images: ECR's forceDelete.
 */
export function checkRegistriesRetained(r: Resource): Violation[] {
    if (r.type !== TYPES.ecr) return [];
    const force = r.props.forceDelete;
    if (isUnknown(force) || asBoolean(force) !== true || r.protect) return [];
    return [
        {
            message: `${named(r)}: forceDelete is true, so deleting the repository deletes every image in it (the rollback history of a production stack). Fix: forceDelete false and the retainOnDelete resource option on production stacks (onedigest: providers/awsShared.ts).`,
        },
    ];
}

/** prod-deletion-protection: Cloud Run services of production cannot be deleted by accident. */
export function checkDeletionProtection(r: Resource): Violation[] {
    if (r.type !== TYPES.cloudRunV2) return [];
    const v = r.props.deletionProtection;
    if (isUnknown(v) || asBoolean(v) === true) return [];
    return [{ message: `${named(r)}: deletionProtection is ${JSON.stringify(v ?? null)}; a production Cloud Run service must set it true. Fix: pulumi config set --path onedigest:cloudrun.deletionProtection true (the default on stacks named prod*).` }];
}

/** prod-alb-deletion-protection (advisory): load balancers of production keep deletion protection on. */
export function checkAlbDeletionProtection(r: Resource): Violation[] {
    if (!(TYPES.loadBalancers as readonly string[]).includes(r.type)) return [];
    const v = r.props.enableDeletionProtection;
    if (isUnknown(v) || asBoolean(v) === true) return [];
    return [{ message: `${named(r)}: enableDeletionProtection is ${JSON.stringify(v ?? null)}; a production load balancer is better protected from deletion. Fix: set enableDeletionProtection: true on the aws.lb.LoadBalancer.` }];
}

function isPublicLoadBalancer(r: Resource): boolean {
    if (!(TYPES.loadBalancers as readonly string[]).includes(r.type)) return false;
    const type = asString(r.props.loadBalancerType) ?? "application";
    return type === "application" && asBoolean(r.props.internal) !== true;
}

function redirectsToHttps(actions: Value | undefined): boolean {
    const list = items(actions);
    return list.length > 0 && list.every((a) => asString(field(a, "type")) === "redirect" && asString(field(field(a, "redirect"), "protocol")) === "HTTPS");
}

/** prod-https: an ALB serves HTTPS on 443 with a certificate and HTTP only redirects; Beanstalk's 443 listener is on. */
export function checkHttps(resources: readonly Resource[]): Violation[] {
    const out: Violation[] = [];
    const listeners = resources.filter((r) => (TYPES.listeners as readonly string[]).includes(r.type));
    for (const lb of resources.filter(isPublicLoadBalancer)) {
        const mine = listeners.filter((l) => (l.propertyDependencies.loadBalancerArn ?? []).includes(lb.urn));
        const https = mine.filter((l) => asNumber(l.props.port) === 443 && asString(l.props.protocol) === "HTTPS" && (isUnknown(l.props.certificateArn) || !!asString(l.props.certificateArn)));
        if (https.length === 0 && !mine.some((l) => isUnknown(l.props.port) || isUnknown(l.props.protocol))) {
            out.push({ urn: lb.urn, message: `${named(lb)}: no HTTPS listener on 443 with a certificate; every public endpoint of a production stack serves HTTPS. Fix: pulumi config set --path onedigest:ecs.certificateArn <ACM certificate ARN> (and onedigest:ecs.domain).` });
        }
    }
    for (const l of listeners) {
        const protocol = l.props.protocol;
        if (isUnknown(protocol) || isUnknown(l.props.defaultActions)) continue;
        if (asString(protocol) === "HTTP" && !redirectsToHttps(l.props.defaultActions)) {
            out.push({ urn: l.urn, message: `${named(l)}: defaultActions of the HTTP listener on ${asNumber(l.props.port) ?? "?"} serve the app instead of redirecting; on a production stack HTTP only redirects to HTTPS. Fix: a redirect action { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } (onedigest does this when ecs.certificateArn is set).` });
        }
        if (asString(protocol) === "HTTPS" && !isUnknown(l.props.certificateArn) && !asString(l.props.certificateArn)) {
            out.push({ urn: l.urn, message: `${named(l)}: certificateArn is not set on an HTTPS listener. Fix: pass the ACM certificate of the domain (onedigest:ecs.certificateArn).` });
        }
    }
    for (const env of resources.filter((r) => r.type === TYPES.beanstalkEnvironment)) {
        const listener = beanstalkSettings(env, "aws:elbv2:listener:443");
        if (!listener) continue;
        const enabled = listener.get("ListenerEnabled") === "true" && listener.get("Protocol") === "HTTPS" && !!listener.get("SSLCertificateArns");
        if (!enabled) {
            out.push({ urn: env.urn, message: `${named(env)}: settings of namespace aws:elbv2:listener:443 do not enable an HTTPS listener (ListenerEnabled true, Protocol HTTPS, SSLCertificateArns); every public endpoint of a production stack serves HTTPS. Fix: pulumi config set --path onedigest:beanstalk.certificateArn <ACM certificate ARN> (and onedigest:beanstalk.domain).` });
        }
    }
    return out;
}

export interface RetentionConfig {
    /** The least retention, in days, a production log group keeps. @default 1 */
    readonly minDays: number;
}
export const DEFAULT_RETENTION: RetentionConfig = { minDays: 1 };

/** prod-log-retention: CloudWatch log groups and Beanstalk's streamed logs expire on a set retention. */
export function checkLogRetention(r: Resource, config: RetentionConfig = DEFAULT_RETENTION): Violation[] {
    if (r.type === TYPES.logGroup) {
        const v = r.props.retentionInDays;
        if (isUnknown(v)) return [];
        const days = asNumber(v) ?? 0;
        if (days >= config.minDays) return [];
        return [{ message: `${named(r)}: retentionInDays is ${days === 0 ? "not set (kept forever)" : days}; a production log group keeps its logs a set time, at least ${config.minDays} day(s). Fix: pulumi config set --path onedigest:ecs.logRetentionDays 30 (one of CloudWatch's retention periods).` }];
    }
    if (r.type === TYPES.beanstalkEnvironment) {
        const logs = beanstalkSettings(r, "aws:elasticbeanstalk:cloudwatch:logs");
        if (!logs) return [];
        const days = Number(logs.get("RetentionInDays") ?? "0");
        const streams = logs.get("StreamLogs") === "true";
        if (streams && days >= config.minDays) return [];
        return [{ message: `${named(r)}: settings of namespace aws:elasticbeanstalk:cloudwatch:logs have StreamLogs ${logs.get("StreamLogs") ?? "unset"} and RetentionInDays ${logs.get("RetentionInDays") ?? "unset"}; a production environment streams its logs with a retention of at least ${config.minDays} day(s). Fix: StreamLogs true and RetentionInDays set (onedigest:beanstalk.logRetentionDays).` }];
    }
    return [];
}
