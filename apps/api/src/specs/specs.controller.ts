import { Controller, HttpCode, Post } from '@nestjs/common';
import { validateSpec } from '@cronbundle/collect';
import { RequireRole } from '../auth/auth.guard';
import { specValidateBody, specValidationSchema, validationErrorSchema } from '../openapi/api-schemas';
import { ApiContract, ValidBody } from '../openapi/contract';
import { adminCollectorPaths } from '../jobs/spec-policy';

@Controller('specs')
export class SpecsController {
  /** Validating is not a change: any role may. */
  @Post('validate')
  @HttpCode(200)
  @RequireRole('viewer')
  @ApiContract({
    summary: 'Validate a troubleshoot.sh spec without saving it',
    description: 'Send the spec as JSON (an object, a list of documents, or a string of YAML) or as YAML text.',
    body: {
      schema: specValidateBody,
      required: true,
      contentTypes: ['application/json', 'application/yaml', 'text/plain'],
    },
    responses: {
      200: { description: 'whether the spec is valid, and every problem with its path', schema: specValidationSchema },
      400: { description: 'the body is not a spec at all (not an object or a string)', schema: validationErrorSchema },
    },
  })
  validate(@ValidBody() spec: string | Record<string, unknown> | unknown[]) {
    const { valid, errors } = validateSpec(spec);
    return { valid, errors, adminCollectors: valid ? adminCollectorPaths(spec) : [] };
  }
}
