import { Controller, Get } from '@nestjs/common';
import { z } from 'zod';
import { cronProblems, nextFireTimes, timezoneProblems, ValidationError } from '@cronbundle/core';
import { RequireRole } from '../auth/auth.guard';
import { schedulePreviewQuery, schedulePreviewSchema, validationErrorSchema } from '../openapi/api-schemas';
import { ApiContract, ValidQuery } from '../openapi/contract';

@Controller('schedule')
export class ScheduleController {
  @Get('preview')
  @RequireRole('viewer')
  @ApiContract({
    summary: 'Next fire times of a cron expression in a time zone (DST-aware)',
    query: schedulePreviewQuery,
    responses: {
      200: { description: 'the next fire times', schema: schedulePreviewSchema },
      400: { description: 'bad cron, zone or count', schema: validationErrorSchema },
    },
  })
  preview(@ValidQuery() query: z.output<typeof schedulePreviewQuery>) {
    const issues = [...cronProblems(query.cron, 'query.cron'), ...timezoneProblems(query.timezone, 'query.timezone')];
    if (issues.length) throw new ValidationError(issues);
    const from = query.from ? Date.parse(query.from) : Date.now();
    const schedule = {
      cron: query.cron,
      timezone: query.timezone,
      dstPolicy: { repeated: query.repeated, skipped: query.skipped },
    };
    const next = nextFireTimes(schedule, from, query.count).map((t) => new Date(t).toISOString());
    return { cron: query.cron, timezone: query.timezone, next };
  }
}
