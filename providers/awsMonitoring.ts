/**
 * What the AWS targets watch, and where it goes: one SNS topic per stack with the alert email's
 * subscription (when `alerts.email` is set), CloudWatch alarms on the three signals (down, failing,
 * slow) and a CloudWatch dashboard per target. The alarm and dashboard inputs are pure functions of
 * resolved names, so tests read them without mocks.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { LIMITS } from "./names";
import { scopedName } from "./shared";
import type { AlertSettings, AppSpec, SharedResources } from "./types";

/** Every signal is looked at minute by minute. */
export const PERIOD_SECONDS = 60;

/**
 * Elastic Beanstalk's EnvironmentHealth values (AWS Elastic Beanstalk developer guide, "Enhanced
 * health metrics"): 0 OK, 1 Info, 5 Unknown, 10 No data, 15 Warning, 20 Degraded, 25 Severe. Degraded
 * and worse is down: most requests fail or instances are unhealthy.
 */
export const ENVIRONMENT_DEGRADED = 20;

/** The 5xx share, in percent of requests: a minute without a 5xx has no datapoint for them, so FILL. */
export const ERROR_RATIO_EXPRESSION = "100 * FILL(errors, 0) / requests";

/** The stack's one topic for alarms, with the alert email subscribed (AWS asks the address to confirm). */
export class AlertTopic extends pulumi.ComponentResource {
    readonly topic: aws.sns.Topic;

    constructor(name: string, args: { app: AppSpec; email: string }, opts?: pulumi.ComponentResourceOptions) {
        super("onedigest:aws:AlertTopic", name, {}, opts);
        this.topic = new aws.sns.Topic(`${name}-topic`, { name: scopedName(args.app, LIMITS.snsTopic, "alerts"), displayName: `${args.app.name} (${args.app.stack}) alerts` }, { parent: this });
        new aws.sns.TopicSubscription(`${name}-email`, { topic: this.topic.arn, protocol: "email", endpoint: args.email }, { parent: this });
        this.registerOutputs({ arn: this.topic.arn });
    }
}

/** The topic alarms notify, shared by every AWS target of the stack; none without an email. */
export function sharedAlertTopic(shared: SharedResources, app: AppSpec, alerts: AlertSettings): AlertTopic | undefined {
    const email = alerts.email;
    if (email === undefined) return undefined;
    return shared.once("aws:alerts", () => new AlertTopic(`${app.name}-alerts`, { app, email }));
}

/** What an alarm does when it changes state: tell the topic, both ways (into ALARM and back to OK). */
export function alarmActions(topic: AlertTopic | undefined): Pick<aws.cloudwatch.MetricAlarmArgs, "alarmActions" | "okActions"> {
    const actions = topic ? [topic.topic.arn] : [];
    return { alarmActions: actions, okActions: actions };
}

type Dimensions = Record<string, pulumi.Input<string>>;

/** The minutes in a row a signal must be bad: every one of the last `unhealthyMinutes` minutes. */
function window(alerts: AlertSettings): Pick<aws.cloudwatch.MetricAlarmArgs, "evaluationPeriods" | "datapointsToAlarm"> {
    return { evaluationPeriods: alerts.unhealthyMinutes, datapointsToAlarm: alerts.unhealthyMinutes };
}

/** Failing: the load balancer's share of requests its targets answered 5xx. */
export function errorRatioAlarm(name: string, what: string, dimensions: Dimensions, alerts: AlertSettings): aws.cloudwatch.MetricAlarmArgs {
    const metric = (metricName: string) => ({ namespace: "AWS/ApplicationELB", metricName, dimensions, period: PERIOD_SECONDS, stat: "Sum" });
    return {
        name,
        alarmDescription: `${what}: more than ${alerts.errorRatePercent}% of requests answered 5xx for ${alerts.unhealthyMinutes} minute(s)`,
        comparisonOperator: "GreaterThanThreshold",
        threshold: alerts.errorRatePercent,
        ...window(alerts),
        // No requests is not failing (the down alarm says whether anything serves).
        treatMissingData: "notBreaching",
        metricQueries: [
            { id: "ratio", expression: ERROR_RATIO_EXPRESSION, label: "5xx % of requests", returnData: true },
            { id: "errors", metric: metric("HTTPCode_Target_5XX_Count"), returnData: false },
            { id: "requests", metric: metric("RequestCount"), returnData: false },
        ],
    };
}

/** Slow: the 99th percentile of the targets' response time, in seconds as CloudWatch has it. */
export function latencyAlarm(name: string, what: string, dimensions: Dimensions, alerts: AlertSettings): aws.cloudwatch.MetricAlarmArgs {
    return {
        name,
        alarmDescription: `${what}: p99 response time above ${alerts.latencyP99Ms} ms for ${alerts.unhealthyMinutes} minute(s)`,
        namespace: "AWS/ApplicationELB",
        metricName: "TargetResponseTime",
        dimensions,
        extendedStatistic: "p99",
        period: PERIOD_SECONDS,
        comparisonOperator: "GreaterThanThreshold",
        threshold: alerts.latencyP99Ms / 1000,
        ...window(alerts),
        treatMissingData: "notBreaching",
        // A minute of a handful of requests says little about a 99th percentile.
        evaluateLowSampleCountPercentiles: "ignore",
    };
}

/** Down (ECS): targets of the target group failing the load balancer's health check. */
export function unhealthyHostsAlarm(name: string, what: string, dimensions: Dimensions, alerts: AlertSettings): aws.cloudwatch.MetricAlarmArgs {
    return {
        name,
        alarmDescription: `${what}: a target failed the load balancer's health check for ${alerts.unhealthyMinutes} minute(s)`,
        namespace: "AWS/ApplicationELB",
        metricName: "UnHealthyHostCount",
        dimensions,
        statistic: "Maximum",
        period: PERIOD_SECONDS,
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        ...window(alerts),
        treatMissingData: "notBreaching",
    };
}

/** Down (Beanstalk): the environment's enhanced health at Degraded or worse. */
export function environmentHealthAlarm(name: string, what: string, environmentName: pulumi.Input<string>, alerts: AlertSettings): aws.cloudwatch.MetricAlarmArgs {
    return {
        name,
        alarmDescription: `${what}: environment health Degraded or Severe for ${alerts.unhealthyMinutes} minute(s)`,
        namespace: "AWS/ElasticBeanstalk",
        metricName: "EnvironmentHealth",
        dimensions: { EnvironmentName: environmentName },
        statistic: "Maximum",
        period: PERIOD_SECONDS,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: ENVIRONMENT_DEGRADED,
        ...window(alerts),
        // No health reported at all stays visible as INSUFFICIENT_DATA, not silently OK.
        treatMissingData: "missing",
    };
}

/**
 * A load balancer's CloudWatch dimension (`app/<name>/<id>`) from its ARN, as Elastic Beanstalk
 * reports the load balancer of an environment; anything else is returned as it is.
 */
export function loadBalancerDimension(arnOrName: string): string {
    const at = arnOrName.indexOf(":loadbalancer/");
    return at < 0 ? arnOrName : arnOrName.slice(at + ":loadbalancer/".length);
}

/** The console's page of a CloudWatch dashboard. */
export function dashboardUrl(region: string, name: string): string {
    return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${name}`;
}

/** A metric widget of a CloudWatch dashboard body (CloudWatch API reference, "Dashboard Body Structure and Syntax"). */
function widget(x: number, y: number, title: string, region: string, metrics: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { type: "metric", x, y, width: 12, height: 6, properties: { title, region, period: PERIOD_SECONDS, view: "timeSeries", stacked: false, metrics, ...extra } };
}

function line(label: string, value: number): Record<string, unknown> {
    return { annotations: { horizontal: [{ label, value }] } };
}

/** Requests, the 5xx share, p50/p99 latency of a load balancer (its target group's, where given). */
function loadBalancerWidgets(region: string, dims: string[], alerts: AlertSettings): Array<Record<string, unknown>> {
    const alb = (metricName: string, options: Record<string, unknown>) => ["AWS/ApplicationELB", metricName, ...dims, options];
    return [
        widget(0, 0, "Requests (per minute)", region, [alb("RequestCount", { stat: "Sum", label: "requests" })]),
        widget(
            12,
            0,
            "Errors (5xx % of requests)",
            region,
            [
                [{ expression: ERROR_RATIO_EXPRESSION, label: "5xx %", id: "ratio" }],
                alb("HTTPCode_Target_5XX_Count", { stat: "Sum", id: "errors", visible: false }),
                alb("RequestCount", { stat: "Sum", id: "requests", visible: false }),
            ],
            line("alarm", alerts.errorRatePercent),
        ),
        widget(0, 6, "Latency (seconds)", region, [alb("TargetResponseTime", { stat: "p50", label: "p50" }), alb("TargetResponseTime", { stat: "p99", label: "p99" })], line("p99 alarm", alerts.latencyP99Ms / 1000)),
    ];
}

/** The ECS service's dashboard: requests, errors, latency, CPU and memory, and its alarms. */
export function ecsDashboardBody(d: { region: string; loadBalancer: string; targetGroup: string; cluster: string; service: string; alarmArns: string[]; alerts: AlertSettings }): string {
    const ecs = (metricName: string) => ["AWS/ECS", metricName, "ClusterName", d.cluster, "ServiceName", d.service, { stat: "Average", label: metricName === "CPUUtilization" ? "CPU" : "memory" }];
    return JSON.stringify({
        widgets: [
            ...loadBalancerWidgets(d.region, ["LoadBalancer", d.loadBalancer, "TargetGroup", d.targetGroup], d.alerts),
            widget(12, 6, "CPU and memory (% of the task's)", d.region, [ecs("CPUUtilization"), ecs("MemoryUtilization")]),
            { type: "alarm", x: 0, y: 12, width: 24, height: 3, properties: { title: "Alarms", alarms: d.alarmArns } },
        ],
    });
}

/**
 * The Beanstalk environment's dashboard: requests, errors and latency at its load balancer, its
 * enhanced health and its instances' CPU (memory needs the CloudWatch agent on the instances), and
 * its alarms.
 */
export function beanstalkDashboardBody(d: { region: string; loadBalancer: string; environment: string; autoScalingGroup: string; alarmArns: string[]; alerts: AlertSettings }): string {
    return JSON.stringify({
        widgets: [
            ...loadBalancerWidgets(d.region, ["LoadBalancer", d.loadBalancer], d.alerts),
            widget(
                12,
                6,
                "Health and CPU",
                d.region,
                [
                    ["AWS/ElasticBeanstalk", "EnvironmentHealth", "EnvironmentName", d.environment, { stat: "Maximum", label: "health (20 Degraded, 25 Severe)" }],
                    ["AWS/EC2", "CPUUtilization", "AutoScalingGroupName", d.autoScalingGroup, { stat: "Average", label: "CPU %", yAxis: "right" }],
                ],
                line("down alarm", ENVIRONMENT_DEGRADED),
            ),
            { type: "alarm", x: 0, y: 12, width: 24, height: 3, properties: { title: "Alarms", alarms: d.alarmArns } },
        ],
    });
}
