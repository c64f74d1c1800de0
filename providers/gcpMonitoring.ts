/**
 * What the Cloud Run target watches in Cloud Monitoring: an uptime check of `/healthcheck` over
 * HTTPS, alert policies on the three signals (down: the uptime check fails; failing: the 5xx share
 * of `run.googleapis.com/request_count`; slow: the p99 of `run.googleapis.com/request_latencies`)
 * and a dashboard. The inputs are pure functions of resolved names, so tests read them without
 * mocks. Metric names and labels: Google Cloud metrics list, "run" (request_count's
 * response_code_class, request_latencies in ms), and "monitoring" (uptime_check/check_passed).
 */
import type * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

import type { AlertSettings } from "./types";

export const PERIOD = "60s";

/** Down: `check_passed` false from more than one checker region, minute after minute. */
export function uptimeAlertCondition(checkId: pulumi.Input<string>, host: pulumi.Input<string>, alerts: AlertSettings) {
    return {
        displayName: "uptime check of /healthcheck fails",
        conditionThreshold: {
            filter: pulumi.interpolate`metric.type="monitoring.googleapis.com/uptime_check/check_passed" AND resource.type="uptime_url" AND metric.label.check_id="${checkId}" AND resource.label.host="${host}"`,
            aggregations: [{ alignmentPeriod: PERIOD, perSeriesAligner: "ALIGN_NEXT_OLDER", crossSeriesReducer: "REDUCE_COUNT_FALSE", groupByFields: ["resource.label.host"] }],
            comparison: "COMPARISON_GT",
            // One region failing is the network; more than one is the app.
            thresholdValue: 1,
            duration: `${alerts.unhealthyMinutes * 60}s`,
            trigger: { count: 1 },
        },
    };
}

/** The request metrics of one Cloud Run service. */
export function serviceFilter(metric: string, project: string, service: string, extra = ""): string {
    return `metric.type="run.googleapis.com/${metric}" AND resource.type="cloud_run_revision" AND resource.label.project_id="${project}" AND resource.label.service_name="${service}"${extra}`;
}

/** Failing: requests answered 5xx over all requests, as a ratio of rates. */
export function errorRatioCondition(project: string, service: string, alerts: AlertSettings) {
    const rate = [{ alignmentPeriod: PERIOD, perSeriesAligner: "ALIGN_RATE", crossSeriesReducer: "REDUCE_SUM", groupByFields: ["resource.label.service_name"] }];
    return {
        displayName: `more than ${alerts.errorRatePercent}% of requests answered 5xx`,
        conditionThreshold: {
            filter: serviceFilter("request_count", project, service, ' AND metric.label.response_code_class="5xx"'),
            aggregations: rate,
            denominatorFilter: serviceFilter("request_count", project, service),
            denominatorAggregations: rate,
            comparison: "COMPARISON_GT",
            thresholdValue: alerts.errorRatePercent / 100,
            duration: `${alerts.unhealthyMinutes * 60}s`,
            trigger: { count: 1 },
            // No requests (scaled to zero) is not failing.
            evaluationMissingData: "EVALUATION_MISSING_DATA_INACTIVE",
        },
    };
}

/** Slow: the 99th percentile of request latency, in milliseconds as Cloud Run reports it. */
export function latencyCondition(project: string, service: string, alerts: AlertSettings) {
    return {
        displayName: `p99 request latency above ${alerts.latencyP99Ms} ms`,
        conditionThreshold: {
            filter: serviceFilter("request_latencies", project, service),
            aggregations: [{ alignmentPeriod: PERIOD, perSeriesAligner: "ALIGN_PERCENTILE_99", crossSeriesReducer: "REDUCE_MAX", groupByFields: ["resource.label.service_name"] }],
            comparison: "COMPARISON_GT",
            thresholdValue: alerts.latencyP99Ms,
            duration: `${alerts.unhealthyMinutes * 60}s`,
            trigger: { count: 1 },
            evaluationMissingData: "EVALUATION_MISSING_DATA_INACTIVE",
        },
    };
}

/** An alert policy of one condition, sent to the channels given. */
export function alertPolicy(
    project: string,
    displayName: string,
    condition: gcp.types.input.monitoring.AlertPolicyCondition,
    channels: pulumi.Input<string>[],
    documentation: string,
): gcp.monitoring.AlertPolicyArgs {
    return {
        project,
        displayName,
        combiner: "OR",
        enabled: true,
        conditions: [condition],
        notificationChannels: channels,
        documentation: { content: documentation, mimeType: "text/markdown" },
        severity: "CRITICAL",
        alertStrategy: { autoClose: "1800s" },
    };
}

/** The console's page of a Cloud Monitoring dashboard (`projects/<number>/dashboards/<id>`). */
export function dashboardUrl(project: string, dashboardName: string): string {
    return `https://console.cloud.google.com/monitoring/dashboards/builder/${dashboardName.split("/").pop() ?? ""}?project=${project}`;
}

/** A chart tile of a mosaic layout (Cloud Monitoring API, projects.dashboards: MosaicLayout, XyChart). */
function tile(x: number, y: number, title: string, dataSets: unknown[], thresholds: unknown[] = []): Record<string, unknown> {
    return { xPos: x, yPos: y, width: 24, height: 16, widget: { title, xyChart: { dataSets, thresholds, yAxis: { scale: "LINEAR" } } } };
}

function series(filter: string, aligner: string, reducer: string, groupBy: string[] = [], plotType = "LINE"): Record<string, unknown> {
    return { plotType, targetAxis: "Y1", timeSeriesQuery: { timeSeriesFilter: { filter, aggregation: { alignmentPeriod: PERIOD, perSeriesAligner: aligner, crossSeriesReducer: reducer, groupByFields: groupBy } } } };
}

/** The service's dashboard: requests by response class, the 5xx share, latency, instances, CPU and memory. */
export function dashboardJson(d: { project: string; service: string; displayName: string; alerts: AlertSettings }): string {
    const f = (metric: string, extra = "") => serviceFilter(metric, d.project, d.service, extra);
    const ratio = {
        plotType: "LINE",
        targetAxis: "Y1",
        timeSeriesQuery: {
            timeSeriesFilterRatio: {
                numerator: { filter: f("request_count", ' AND metric.label.response_code_class="5xx"'), aggregation: { alignmentPeriod: PERIOD, perSeriesAligner: "ALIGN_RATE", crossSeriesReducer: "REDUCE_SUM" } },
                denominator: { filter: f("request_count"), aggregation: { alignmentPeriod: PERIOD, perSeriesAligner: "ALIGN_RATE", crossSeriesReducer: "REDUCE_SUM" } },
            },
        },
    };
    return JSON.stringify({
        displayName: d.displayName,
        mosaicLayout: {
            columns: 48,
            tiles: [
                tile(0, 0, "Requests (per second, by response class)", [series(f("request_count"), "ALIGN_RATE", "REDUCE_SUM", ["metric.label.response_code_class"], "STACKED_BAR")]),
                tile(24, 0, "Errors (5xx share of requests)", [ratio], [{ label: "alert", value: d.alerts.errorRatePercent / 100, targetAxis: "Y1" }]),
                tile(
                    0,
                    16,
                    "Latency (ms, p50 and p99)",
                    [series(f("request_latencies"), "ALIGN_PERCENTILE_50", "REDUCE_MAX"), series(f("request_latencies"), "ALIGN_PERCENTILE_99", "REDUCE_MAX")],
                    [{ label: "p99 alert", value: d.alerts.latencyP99Ms, targetAxis: "Y1" }],
                ),
                tile(24, 16, "Instances", [series(f("container/instance_count"), "ALIGN_MAX", "REDUCE_SUM", ["metric.label.state"])]),
                tile(0, 32, "CPU (p99 utilization)", [series(f("container/cpu/utilizations"), "ALIGN_PERCENTILE_99", "REDUCE_MAX")]),
                tile(24, 32, "Memory (p99 utilization)", [series(f("container/memory/utilizations"), "ALIGN_PERCENTILE_99", "REDUCE_MAX")]),
            ],
        },
    });
}
