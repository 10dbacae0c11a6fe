// Package reports answers the dashboard's push reports from ClickHouse at
// query time: conversion attribution per campaign, automation, step or
// variant with the holdout comparison, and the delivery counts of one
// campaign.
//
// Attribution: a conversion event belongs to the LAST push_clicked of the
// same subscriber at or before it, if that click is at most the site's
// attribution window older (both bounds inclusive); an older click, or none,
// leaves it unattributed. The click's push_id names the push: the campaign,
// automation, step and variant come from the push_sent event with that
// push_id (props step_id and variant), or from the click itself when no
// push_sent is stored; that push_sent is read from push_sent_meta
// (schemas/clickhouse/0006_push_rollup.sql: the push_sent events by push id,
// kept by a materialized view), not from the events. Holdouts are the push_held_out events: members are
// the distinct subscribers held out, and their conversions are those within
// the window after the held-out time, measured exactly like the recipients'
// conversion rate (any conversion within the window after a push_sent,
// clicked or not), so the two rates compare.
//
// Every query is scoped by site id and takes user input only as bound
// parameters. It checks no permissions (the API layer does).
package reports
