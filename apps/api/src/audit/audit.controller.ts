import { Controller, Get, Inject } from '@nestjs/common';
import { z } from 'zod';
import { AuditLog } from '@cronbundle/executions';
import { RequireRole } from '../auth/auth.guard';
import { auditPageSchema, auditQuery, validationErrorSchema } from '../openapi/api-schemas';
import { ApiContract, ValidQuery } from '../openapi/contract';

@Controller('audit')
export class AuditController {
  constructor(@Inject(AuditLog) private readonly audit: AuditLog) {}

  @Get()
  @RequireRole('viewer')
  @ApiContract({
    summary: 'The audit log, newest first',
    query: auditQuery,
    responses: {
      200: { description: 'a page of audit entries', schema: auditPageSchema },
      400: { description: 'bad limit or cursor', schema: validationErrorSchema },
    },
  })
  list(@ValidQuery() query: z.output<typeof auditQuery>) {
    return this.audit.list(query);
  }
}
