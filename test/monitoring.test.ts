/**
 * What every target watches (down, failing, slow) and where it goes, exactly as the clouds would
 * receive it: the CloudWatch alarms of ECS and Beanstalk with the SNS topic and its email
 * subscription, ECS's deployment alarms naming them, the Cloud Monitoring uptime check, alert
 * policies and notification channel, Heroku's log drain, and each dashboard the deployment exports.
 * The thresholds and the email come from `onedigest:alerts`.
 */
import * as assert from "assert";

import { beanstalkDashboardBody, ecsDashboardBody, loadBalancerDimension } from "../providers/awsMonitoring";
import { dashboardJson, serviceFilter } from "../providers/gcpMonitoring";
import { beforeProgram, configError } from "./helpers";
import { inputsOf, isSecret, reveal, runProgram, type ProgramRun } from "./mocks";

const AWS = { "aws:region": "eu-west-1" };
const GCP = { "gcp:project": "onedigest-test", "gcp:region": "europe-west1" };
const EMAIL = "oncall@example.com";
const DEFAULTS = { errorRatePercent: 5, latencyP99Ms: 1000, unhealthyMinutes: 3 };
const TOPIC_ARN = "arn:aws:mock:eu-west-1:123456789012:sns/topic/onedigest-alerts-topic";
const E = "onedigest-aws-ecs";
const B = "onedigest-aws-beanstalk";
const R = "onedigest-gcp-cloudrun";
const ALB = { LoadBalancer: `app/${E}-alb/1` };
const arnOf = (type: string, name: string) => `arn:aws:mock:eu-west-1:123456789012:${type}/${name}`;

/** The inputs every ALB 5xx-ratio alarm has, for `dimensions`. */
function errorRatio(name: string, what: string, dimensions: Record<string, string>, t = DEFAULTS) {
    const metric = (metricName: string) => ({ namespace: "AWS/ApplicationELB", metricName, dimensions, period: 60, stat: "Sum" });
    return {
        name,
        alarmDescription: `${what}: more than ${t.errorRatePercent}% of requests answered 5xx for ${t.unhealthyMinutes} minute(s)`,
        comparisonOperator: "GreaterThanThreshold",
        threshold: t.errorRatePercent,
        evaluationPeriods: t.unhealthyMinutes,
        datapointsToAlarm: t.unhealthyMinutes,
        treatMissingData: "notBreaching",
        metricQueries: [
            { id: "ratio", expression: "100 * FILL(errors, 0) / requests", label: "5xx % of requests", returnData: true },
            { id: "errors", metric: metric("HTTPCode_Target_5XX_Count"), returnData: false },
            { id: "requests", metric: metric("RequestCount"), returnData: false },
        ],
    };
}

function latency(name: string, what: string, dimensions: Record<string, string>, t = DEFAULTS) {
    return {
        name,
        alarmDescription: `${what}: p99 response time above ${t.latencyP99Ms} ms for ${t.unhealthyMinutes} minute(s)`,
        namespace: "AWS/ApplicationELB",
        metricName: "TargetResponseTime",
        dimensions,
        extendedStatistic: "p99",
        period: 60,
        comparisonOperator: "GreaterThanThreshold",
        threshold: t.latencyP99Ms / 1000,
        evaluationPeriods: t.unhealthyMinutes,
        datapointsToAlarm: t.unhealthyMinutes,
        treatMissingData: "notBreaching",
        evaluateLowSampleCountPercentiles: "ignore",
    };
}

const actions = (arn: string | undefined) => ({ alarmActions: arn ? [arn] : [], okActions: arn ? [arn] : [] });

describe("monitoring: aws-ecs alarms, deployment rollback on alarm, the topic and the dashboard", () => {
    let run: ProgramRun;
    beforeProgram(async () => {
        run = await runProgram({ targets: ["aws-ecs"], ...AWS, alerts: { email: EMAIL } });
    });

    it("down: a target failing the load balancer's health check, every minute of the last three", () => {
        const tg = String(inputsOf(run, `${E}-tg`).name);
        assert.deepStrictEqual(inputsOf(run, `${E}-unhealthy`), {
            name: "onedigest-test-ecs-unhealthy",
            alarmDescription: "onedigest (test) on ECS: a target failed the load balancer's health check for 3 minute(s)",
            namespace: "AWS/ApplicationELB",
            metricName: "UnHealthyHostCount",
            dimensions: { LoadBalancer: ALB.LoadBalancer, TargetGroup: `targetgroup/${tg}/1` },
            statistic: "Maximum",
            period: 60,
            comparisonOperator: "GreaterThanThreshold",
            threshold: 0,
            evaluationPeriods: 3,
            datapointsToAlarm: 3,
            treatMissingData: "notBreaching",
            ...actions(TOPIC_ARN),
        });
    });

    it("failing: the target group's 5xx share of requests (metric math), and slow: its p99 response time", () => {
        const tg = String(inputsOf(run, `${E}-tg`).name);
        const d = { LoadBalancer: ALB.LoadBalancer, TargetGroup: `targetgroup/${tg}/1` };
        assert.deepStrictEqual(inputsOf(run, `${E}-errors`), { ...errorRatio("onedigest-test-ecs-errors", "onedigest (test) on ECS", d), ...actions(TOPIC_ARN) });
        assert.deepStrictEqual(inputsOf(run, `${E}-latency`), { ...latency("onedigest-test-ecs-latency", "onedigest (test) on ECS", d), ...actions(TOPIC_ARN) });
    });

    it("the service's deployment alarms name exactly those three, with rollback, and wait for them", () => {
        const service = inputsOf(run, `${E}-service`);
        const names = run.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => String(a.inputs.name));
        assert.deepStrictEqual(service.alarms, { alarmNames: ["onedigest-test-ecs-unhealthy", "onedigest-test-ecs-errors", "onedigest-test-ecs-latency"], enable: true, rollback: true });
        assert.deepStrictEqual(names.sort(), ["onedigest-test-ecs-errors", "onedigest-test-ecs-latency", "onedigest-test-ecs-unhealthy"], "the alarms named are the alarms made");
        const deps = run.mocks.dependencies.get(`${E}-service`) ?? [];
        for (const alarm of [`${E}-unhealthy`, `${E}-errors`, `${E}-latency`]) assert.ok(deps.includes(alarm), `the service does not wait for ${alarm}`);
    });

    it("one SNS topic for the stack with the alert email subscribed", () => {
        assert.deepStrictEqual(inputsOf(run, "onedigest-alerts-topic"), { name: "onedigest-test-alerts", displayName: "onedigest (test) alerts" });
        assert.deepStrictEqual(inputsOf(run, "onedigest-alerts-email"), { topic: TOPIC_ARN, protocol: "email", endpoint: EMAIL });
        assert.strictEqual(run.mocks.parents.get("onedigest-alerts-topic"), "onedigest-alerts");
    });

    it("a dashboard of requests, errors, latency, CPU and memory and the alarms, exported as its console link", () => {
        const dashboard = inputsOf(run, `${E}-dashboard`);
        assert.strictEqual(dashboard.dashboardName, "onedigest-test-ecs");
        const tg = String(inputsOf(run, `${E}-tg`).name);
        const expected = ecsDashboardBody({
            region: "eu-west-1",
            loadBalancer: ALB.LoadBalancer,
            targetGroup: `targetgroup/${tg}/1`,
            cluster: "onedigest-test",
            service: "onedigest-test",
            alarmArns: ["unhealthy", "errors", "latency"].map((r) => arnOf("cloudwatch/metricAlarm", `${E}-${r}`)),
            alerts: DEFAULTS,
        });
        assert.strictEqual(dashboard.dashboardBody, expected);
        const body = JSON.parse(String(dashboard.dashboardBody)) as { widgets: Array<{ type: string; properties: { title: string; metrics?: unknown[][] } }> };
        assert.deepStrictEqual(body.widgets.map((w) => w.properties.title), ["Requests (per minute)", "Errors (5xx % of requests)", "Latency (seconds)", "CPU and memory (% of the task's)", "Alarms"]);
        const metricNames = body.widgets.flatMap((w) => (w.properties.metrics ?? []).map((m) => m[1]));
        for (const m of ["RequestCount", "HTTPCode_Target_5XX_Count", "TargetResponseTime", "CPUUtilization", "MemoryUtilization"]) assert.ok(metricNames.includes(m), m);
        const deployments = run.outputs.deployments as Record<string, { dashboard: string }>;
        assert.strictEqual(deployments["aws-ecs"].dashboard, "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/onedigest-test-ecs");
    });

    it("the stack exports the thresholds the alarms fire on, and not where they go", () => {
        assert.deepStrictEqual(run.outputs.alerts, DEFAULTS);
        assert.ok(!JSON.stringify(run.outputs).includes(EMAIL), "the email is not an output");
    });

    it("every monitoring resource is a child of the service's component or of the stack's topic", () => {
        for (const r of run.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").concat(run.ofType("aws:cloudwatch/dashboard:Dashboard"))) assert.strictEqual(run.mocks.parents.get(r.name), E, r.name);
    });
});

describe("monitoring: thresholds and the email flow from config", () => {
    it("without an email: the alarms, no topic, no subscription, nowhere to send", async () => {
        const run = await runProgram({ targets: ["aws-ecs", "gcp-cloudrun"], ...AWS, ...GCP });
        assert.strictEqual(run.ofType("aws:sns/topic:Topic").length, 0);
        assert.strictEqual(run.ofType("aws:sns/topicSubscription:TopicSubscription").length, 0);
        assert.strictEqual(run.ofType("gcp:monitoring/notificationChannel:NotificationChannel").length, 0);
        const alarms = run.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
        assert.strictEqual(alarms.length, 3);
        for (const a of alarms) assert.deepStrictEqual([a.inputs.alarmActions, a.inputs.okActions], [[], []], a.name);
        for (const p of run.ofType("gcp:monitoring/alertPolicy:AlertPolicy")) assert.deepStrictEqual(p.inputs.notificationChannels, [], p.name);
    });

    it("set thresholds reach every alarm and policy: ratio, latency (seconds on AWS, ms on Google Cloud) and the minutes in a row", async () => {
        const t = { errorRatePercent: 2.5, latencyP99Ms: 400, unhealthyMinutes: 5 };
        const run = await runProgram({ targets: ["aws-ecs", "gcp-cloudrun"], ...AWS, ...GCP, alerts: { ...t } });
        const tg = String(inputsOf(run, `${E}-tg`).name);
        const d = { LoadBalancer: ALB.LoadBalancer, TargetGroup: `targetgroup/${tg}/1` };
        assert.deepStrictEqual(inputsOf(run, `${E}-errors`), { ...errorRatio("onedigest-test-ecs-errors", "onedigest (test) on ECS", d, t), ...actions(undefined) });
        assert.deepStrictEqual(inputsOf(run, `${E}-latency`), { ...latency("onedigest-test-ecs-latency", "onedigest (test) on ECS", d, t), ...actions(undefined) });
        assert.deepStrictEqual([inputsOf(run, `${E}-unhealthy`).evaluationPeriods, inputsOf(run, `${E}-unhealthy`).datapointsToAlarm], [5, 5]);
        const threshold = (role: string) => (inputsOf(run, `${R}-${role}`).conditions as Array<{ conditionThreshold: { thresholdValue: number; duration: string } }>)[0].conditionThreshold;
        assert.deepStrictEqual(threshold("errors"), { ...threshold("errors"), thresholdValue: 0.025, duration: "300s" });
        assert.deepStrictEqual(threshold("latency"), { ...threshold("latency"), thresholdValue: 400, duration: "300s" });
        assert.deepStrictEqual(threshold("down"), { ...threshold("down"), duration: "300s" });
        assert.deepStrictEqual(run.outputs.alerts, t);
    });

    it("a threshold set as text (pulumi config set --path … 2.5 stores a string) is read as its number", async () => {
        const run = await runProgram({ targets: ["aws-ecs"], ...AWS, alerts: { errorRatePercent: "2.5" } });
        assert.strictEqual(inputsOf(run, `${E}-errors`).threshold, 2.5);
    });

    const bad: Array<[string, Record<string, unknown>, string]> = [
        ["email", { email: "oncall" }, 'onedigest:alerts.email: got "oncall"; expected an email address such as oncall@example.com. Fix: pulumi config set --path onedigest:alerts.email oncall@example.com'],
        ["email with a space", { email: "on call@example.com" }, 'onedigest:alerts.email: got "on call@example.com"; expected an email address such as oncall@example.com. Fix: pulumi config set --path onedigest:alerts.email oncall@example.com'],
        ["errorRatePercent 0", { errorRatePercent: 0 }, "onedigest:alerts.errorRatePercent: got 0; expected a number from 0.1 to 100. Fix: pulumi config set --path onedigest:alerts.errorRatePercent 5"],
        ["errorRatePercent over 100", { errorRatePercent: 101 }, "onedigest:alerts.errorRatePercent: got 101; expected a number from 0.1 to 100. Fix: pulumi config set --path onedigest:alerts.errorRatePercent 5"],
        ["errorRatePercent not a number", { errorRatePercent: "five" }, 'onedigest:alerts.errorRatePercent: got "five"; expected a number from 0.1 to 100. Fix: pulumi config set --path onedigest:alerts.errorRatePercent 5'],
        ["latencyP99Ms a fraction", { latencyP99Ms: 2.5 }, "onedigest:alerts.latencyP99Ms: got 2.5; expected an integer from 10 to 60000. Fix: pulumi config set --path onedigest:alerts.latencyP99Ms 1000"],
        ["latencyP99Ms past the 60 s every platform ends a request at", { latencyP99Ms: 60001 }, "onedigest:alerts.latencyP99Ms: got 60001; expected an integer from 10 to 60000. Fix: pulumi config set --path onedigest:alerts.latencyP99Ms 1000"],
        ["unhealthyMinutes 0", { unhealthyMinutes: 0 }, "onedigest:alerts.unhealthyMinutes: got 0; expected an integer from 1 to 60. Fix: pulumi config set --path onedigest:alerts.unhealthyMinutes 3"],
        ["an unknown field", { emails: "a@b.c" }, 'onedigest:alerts.emails: got "a@b.c"; expected one of the fields email, errorRatePercent, latencyP99Ms, unhealthyMinutes. Fix: pulumi config rm --path onedigest:alerts.emails'],
    ];
    for (const [what, alerts, message] of bad) {
        it(`refuses ${what}, naming the key, the value, what is allowed and the fix, before any resource`, () => {
            assert.strictEqual(configError({ alerts }), message);
        });
    }

    it("refuses a bad value before any resource is registered", async () => {
        const { runProgramError } = await import("./mocks");
        const { message, resources } = await runProgramError({ targets: ["aws-ecs"], ...AWS, alerts: { unhealthyMinutes: 61 } });
        assert.match(message, /^onedigest:alerts\.unhealthyMinutes: got 61;/);
        assert.deepStrictEqual(resources.filter((r) => !r.type.startsWith("pulumi:")).map((r) => r.type), []);
    });

    it("alerts is an object", () => {
        assert.strictEqual(configError({ alerts: "oncall@example.com" }), 'onedigest:alerts: got "oncall@example.com"; expected an object. Fix: pulumi config rm onedigest:alerts');
    });
});

describe("monitoring: aws-beanstalk health, its load balancer's errors and latency, the shared topic, the dashboard", () => {
    let run: ProgramRun;
    const lb = `app/awseb-${B}-env/0123456789abcdef`;
    beforeProgram(async () => {
        run = await runProgram({ targets: ["aws-ecs", "aws-beanstalk"], ...AWS, alerts: { email: EMAIL } });
    });

    it("enhanced health reporting is on (the environment publishes EnvironmentHealth)", () => {
        const settings = inputsOf(run, `${B}-env`).settings as Array<{ namespace: string; name: string; value: string }>;
        assert.deepStrictEqual(settings.filter((s) => s.namespace === "aws:elasticbeanstalk:healthreporting:system"), [{ namespace: "aws:elasticbeanstalk:healthreporting:system", name: "SystemType", value: "enhanced" }]);
    });

    it("down: environment health Degraded (20) or worse; missing data is not taken for OK", () => {
        assert.deepStrictEqual(inputsOf(run, `${B}-health`), {
            name: "onedigest-test-beanstalk-health",
            alarmDescription: "onedigest (test) on Beanstalk: environment health Degraded or Severe for 3 minute(s)",
            namespace: "AWS/ElasticBeanstalk",
            metricName: "EnvironmentHealth",
            dimensions: { EnvironmentName: "onedigest-test" },
            statistic: "Maximum",
            period: 60,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
            threshold: 20,
            evaluationPeriods: 3,
            datapointsToAlarm: 3,
            treatMissingData: "missing",
            ...actions(TOPIC_ARN),
        });
    });

    it("failing and slow at the load balancer the environment reports (its ARN made a CloudWatch dimension)", () => {
        assert.deepStrictEqual(inputsOf(run, `${B}-errors`), { ...errorRatio("onedigest-test-beanstalk-errors", "onedigest (test) on Beanstalk", { LoadBalancer: lb }), ...actions(TOPIC_ARN) });
        assert.deepStrictEqual(inputsOf(run, `${B}-latency`), { ...latency("onedigest-test-beanstalk-latency", "onedigest (test) on Beanstalk", { LoadBalancer: lb }), ...actions(TOPIC_ARN) });
        assert.strictEqual(loadBalancerDimension("arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/awseb-AWSEB-1x/0f"), "app/awseb-AWSEB-1x/0f");
        assert.strictEqual(loadBalancerDimension("awseb-e-x-AWSEBLoa-1"), "awseb-e-x-AWSEBLoa-1");
    });

    it("ECS and Beanstalk in one stack send to the one topic; every alarm name is the stack's and the target's", () => {
        assert.strictEqual(run.ofType("aws:sns/topic:Topic").length, 1);
        assert.strictEqual(run.ofType("aws:sns/topicSubscription:TopicSubscription").length, 1);
        const names = run.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => String(a.inputs.name));
        assert.strictEqual(new Set(names).size, 6, names.join(", "));
    });

    it("a dashboard of requests, errors, latency, health and CPU and the alarms, exported as its console link", () => {
        const dashboard = inputsOf(run, `${B}-dashboard`);
        assert.strictEqual(dashboard.dashboardName, "onedigest-test-beanstalk");
        assert.strictEqual(
            dashboard.dashboardBody,
            beanstalkDashboardBody({
                region: "eu-west-1",
                loadBalancer: lb,
                environment: "onedigest-test",
                autoScalingGroup: `awseb-${B}-env-AWSEBAutoScalingGroup`,
                alarmArns: ["health", "errors", "latency"].map((r) => arnOf("cloudwatch/metricAlarm", `${B}-${r}`)),
                alerts: DEFAULTS,
            }),
        );
        const deployments = run.outputs.deployments as Record<string, { dashboard: string }>;
        assert.strictEqual(deployments["aws-beanstalk"].dashboard, "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/onedigest-test-beanstalk");
    });
});

describe("monitoring: gcp-cloudrun uptime check, alert policies, the email channel, the dashboard", () => {
    let run: ProgramRun;
    const host = "onedigest-test-abc123-ew.a.run.app";
    const channel = () => String(run.mocks.state.get(`${R}-alert-email`)?.name);
    beforeProgram(async () => {
        run = await runProgram({ targets: ["gcp-cloudrun"], ...GCP, alerts: { email: EMAIL } });
    });

    it("an email notification channel for the alert address", () => {
        assert.deepStrictEqual(inputsOf(run, `${R}-alert-email`), { project: "onedigest-test", type: "email", displayName: "onedigest (test) on Cloud Run: alerts", labels: { email_address: EMAIL }, enabled: true });
    });

    it("an uptime check of /healthcheck over HTTPS, every minute, at the service's own host", () => {
        assert.deepStrictEqual(inputsOf(run, `${R}-uptime`), {
            project: "onedigest-test",
            displayName: "onedigest (test) on Cloud Run: /healthcheck",
            timeout: "10s",
            period: "60s",
            httpCheck: { path: "/healthcheck", port: 443, useSsl: true, validateSsl: true, requestMethod: "GET", acceptedResponseStatusCodes: [{ statusClass: "STATUS_CLASS_2XX" }] },
            monitoredResource: { type: "uptime_url", labels: { project_id: "onedigest-test", host } },
        });
    });

    const policy = (role: string, displayName: string, condition: unknown, documentation: string) => ({
        project: "onedigest-test",
        displayName: `onedigest (test) on Cloud Run: ${displayName}`,
        combiner: "OR",
        enabled: true,
        conditions: [condition],
        notificationChannels: [channel()],
        documentation: { content: documentation, mimeType: "text/markdown" },
        severity: "CRITICAL",
        alertStrategy: { autoClose: "1800s" },
        role,
    });
    const without = (p: Record<string, unknown>) => Object.fromEntries(Object.entries(p).filter(([k]) => k !== "role"));

    it("down: the uptime check failing from more than one region for three minutes", () => {
        const checkId = String(run.mocks.state.get(`${R}-uptime`)?.uptimeCheckId);
        assert.deepStrictEqual(
            inputsOf(run, `${R}-down`),
            without(
                policy(
                    "down",
                    "down",
                    {
                        displayName: "uptime check of /healthcheck fails",
                        conditionThreshold: {
                            filter: `metric.type="monitoring.googleapis.com/uptime_check/check_passed" AND resource.type="uptime_url" AND metric.label.check_id="${checkId}" AND resource.label.host="${host}"`,
                            aggregations: [{ alignmentPeriod: "60s", perSeriesAligner: "ALIGN_NEXT_OLDER", crossSeriesReducer: "REDUCE_COUNT_FALSE", groupByFields: ["resource.label.host"] }],
                            comparison: "COMPARISON_GT",
                            thresholdValue: 1,
                            duration: "180s",
                            trigger: { count: 1 },
                        },
                    },
                    "/healthcheck has not answered 2xx over HTTPS from more than one region for 3 minute(s). See the service's logs and revisions in the Cloud Run console.",
                ),
            ),
        );
    });

    it("failing: 5xx request_count over all request_count of the service (response_code_class); slow: p99 of request_latencies", () => {
        const rate = [{ alignmentPeriod: "60s", perSeriesAligner: "ALIGN_RATE", crossSeriesReducer: "REDUCE_SUM", groupByFields: ["resource.label.service_name"] }];
        const base = 'metric.type="run.googleapis.com/request_count" AND resource.type="cloud_run_revision" AND resource.label.project_id="onedigest-test" AND resource.label.service_name="onedigest-test"';
        assert.strictEqual(serviceFilter("request_count", "onedigest-test", "onedigest-test"), base);
        assert.deepStrictEqual(
            inputsOf(run, `${R}-errors`),
            without(
                policy(
                    "errors",
                    "failing",
                    {
                        displayName: "more than 5% of requests answered 5xx",
                        conditionThreshold: {
                            filter: `${base} AND metric.label.response_code_class="5xx"`,
                            aggregations: rate,
                            denominatorFilter: base,
                            denominatorAggregations: rate,
                            comparison: "COMPARISON_GT",
                            thresholdValue: 0.05,
                            duration: "180s",
                            trigger: { count: 1 },
                            evaluationMissingData: "EVALUATION_MISSING_DATA_INACTIVE",
                        },
                    },
                    "More than 5% of requests answered 5xx for 3 minute(s). See the service's logs in the Cloud Run console.",
                ),
            ),
        );
        assert.deepStrictEqual(
            inputsOf(run, `${R}-latency`),
            without(
                policy(
                    "latency",
                    "slow",
                    {
                        displayName: "p99 request latency above 1000 ms",
                        conditionThreshold: {
                            filter: base.replace("request_count", "request_latencies"),
                            aggregations: [{ alignmentPeriod: "60s", perSeriesAligner: "ALIGN_PERCENTILE_99", crossSeriesReducer: "REDUCE_MAX", groupByFields: ["resource.label.service_name"] }],
                            comparison: "COMPARISON_GT",
                            thresholdValue: 1000,
                            duration: "180s",
                            trigger: { count: 1 },
                            evaluationMissingData: "EVALUATION_MISSING_DATA_INACTIVE",
                        },
                    },
                    "The 99th percentile of request latency was above 1000 ms for 3 minute(s). See the service's metrics in the Cloud Run console.",
                ),
            ),
        );
    });

    it("every monitoring resource waits for the Monitoring API to answer", () => {
        const [ready] = run.ofType("pulumi-nodejs:dynamic/gcp:ApisReady");
        assert.ok((reveal(ready.inputs) as { services: string[] }).services.includes("monitoring.googleapis.com"));
        for (const type of ["notificationChannel:NotificationChannel", "uptimeCheckConfig:UptimeCheckConfig", "alertPolicy:AlertPolicy", "dashboard:Dashboard"]) {
            const found = run.ofType(`gcp:monitoring/${type}`);
            assert.ok(found.length > 0, type);
            for (const r of found) assert.ok(run.mocks.dependencies.get(r.name)?.includes(ready.name), `${r.name} does not wait for the APIs`);
        }
    });

    it("a dashboard of requests, errors, latency, instances, CPU and memory, exported as its console link", () => {
        const dashboard = inputsOf(run, `${R}-dashboard`);
        assert.deepStrictEqual(dashboard, { project: "onedigest-test", dashboardJson: dashboardJson({ project: "onedigest-test", service: "onedigest-test", displayName: "onedigest (test) on Cloud Run", alerts: DEFAULTS }) });
        const tiles = (JSON.parse(String(dashboard.dashboardJson)) as { mosaicLayout: { tiles: Array<{ widget: { title: string } }> } }).mosaicLayout.tiles;
        assert.deepStrictEqual(tiles.map((t) => t.widget.title), [
            "Requests (per second, by response class)",
            "Errors (5xx share of requests)",
            "Latency (ms, p50 and p99)",
            "Instances",
            "CPU (p99 utilization)",
            "Memory (p99 utilization)",
        ]);
        const deployments = run.outputs.deployments as Record<string, { dashboard: string }>;
        assert.strictEqual(deployments["gcp-cloudrun"].dashboard, `https://console.cloud.google.com/monitoring/dashboards/builder/${R}-dashboard-id?project=onedigest-test`);
    });

    it("a service the internet cannot reach gets no uptime check (it would always fail), only the request alerts", async () => {
        for (const cloudrun of [{ public: false }, { ingress: "internal" }]) {
            const other = await runProgram({ targets: ["gcp-cloudrun"], ...GCP, cloudrun });
            assert.strictEqual(other.ofType("gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig").length, 0, JSON.stringify(cloudrun));
            assert.deepStrictEqual(other.ofType("gcp:monitoring/alertPolicy:AlertPolicy").map((p) => p.name).sort(), [`${R}-errors`, `${R}-latency`]);
        }
    });
});

describe("monitoring: heroku's log drain and its metrics page", () => {
    it("a log drain when heroku.logDrainUrl is set, its URL a secret input; the Dashboard's metrics page exported", async () => {
        const url = "syslog+tls://logs.example.com:6514";
        const run = await runProgram({ targets: ["heroku"], herokuApiKey: "hk-key", heroku: { logDrainUrl: url } });
        const [drain] = run.ofType("pulumi-nodejs:dynamic/heroku:LogDrain");
        assert.ok(drain, "no log drain");
        assert.ok(isSecret(drain.inputs.url), "the drain URL is not a secret input");
        const plain = reveal(drain.inputs) as Record<string, unknown>;
        assert.deepStrictEqual([plain.url, plain.app, plain.apiUrl], [url, String(run.mocks.state.get("onedigest-heroku-app")?.name ?? plain.app), "https://api.heroku.com"]);
        assert.strictEqual(run.mocks.lifecycle.get(drain.name)?.additionalSecretOutputs.sort().join(","), "apiKey,url");
        const app = String((run.outputs.deployments as Record<string, { image: string }>).heroku.image.split("/")[1]);
        assert.strictEqual((run.outputs.deployments as Record<string, { dashboard: string }>).heroku.dashboard, `https://dashboard.heroku.com/apps/${app}/metrics/web`);
    });

    it("no drain without the setting", async () => {
        const run = await runProgram({ targets: ["heroku"], herokuApiKey: "hk-key" });
        assert.strictEqual(run.ofType("pulumi-nodejs:dynamic/heroku:LogDrain").length, 0);
    });

    it("refuses what is not a drain URL without printing it (a drain URL may carry a token), with the --secret fix", () => {
        for (const logDrainUrl of ["http://logs.example.com/in?token=abc", "syslog+tls://logs.example.com", "ftp://x", 5]) {
            const message = configError({ targets: ["heroku"], heroku: { logDrainUrl } }, { secret: () => undefined, env: { HEROKU_API_KEY: "k" } });
            assert.strictEqual(
                message,
                "onedigest:heroku.logDrainUrl: got a value that is not one (not shown: it may hold a token); expected a log drain URL: syslog+tls://host:port, syslog://host:port or https://host/path. Fix: pulumi config set --secret --path onedigest:heroku.logDrainUrl syslog+tls://logs.example.com:6514",
                String(logDrainUrl),
            );
            assert.ok(!message.includes("token=abc"));
        }
    });
});
