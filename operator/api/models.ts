import { secretKeyRef } from './common.js';
import { enumOf, object, string } from './schema.js';

/** Where the embedding model comes from. */
export const embedding = object(
  {
    hubId: string({
      description: 'Model id on the model hub; the image has it baked in or downloads it.',
      minLength: 1,
      maxLength: 256,
    }).optional(),
    volume: object(
      {
        claimName: string({
          description: 'PersistentVolumeClaim holding the model.',
          minLength: 1,
        }),
        path: string({
          description: 'Folder of the model inside the volume.',
          pattern: '^[^.].*',
        }).default('model'),
      },
      { description: 'A volume holding a model folder, mounted read-only.' },
    ).optional(),
  },
  { description: 'Embedding model; the image default when neither hubId nor volume is set.' },
).validate({
  rule: '!(has(self.hubId) && has(self.volume))',
  message: 'embedding must set hubId or volume, not both',
  reason: 'FieldValueForbidden',
});

/** Settings of an OpenAI-compatible chat completions endpoint. */
export const openai = object(
  {
    baseUrl: string({
      description: 'Base URL of the API, such as https://api.openai.com/v1.',
      pattern: '^https?://.+',
      maxLength: 2048,
    }),
    model: string({ description: 'Model name sent with each request.', minLength: 1 }),
    apiKeySecretRef: secretKeyRef.optional(),
  },
  { description: 'An OpenAI-compatible chat completions endpoint.' },
);

/** How answers are produced from retrieved chunks. */
export const generator = object(
  {
    type: enumOf(['extractive', 'openai'] as const, {
      description:
        'extractive: answers quote the best chunks, with no model call. openai: an ' +
        'OpenAI-compatible endpoint writes the answer.',
    }).default('extractive'),
    openai: openai.optional(),
  },
  { description: 'Answer generator.' },
).validate(
  {
    rule: "self.type != 'openai' || has(self.openai)",
    message: 'generator.openai is required when generator.type is openai',
    fieldPath: '.openai',
    reason: 'FieldValueRequired',
  },
  {
    rule: "self.type != 'openai' || !has(self.openai) || has(self.openai.apiKeySecretRef)",
    message: 'generator.openai.apiKeySecretRef is required when generator.type is openai',
    fieldPath: '.openai.apiKeySecretRef',
    reason: 'FieldValueRequired',
  },
);
