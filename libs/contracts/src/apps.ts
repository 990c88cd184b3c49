import { z } from 'zod';
import { DNS1123_LABEL, dns1123Label, envVar } from './meta';
import { IMAGE_STREAM_TAG_NAME } from './images';
import { gitRef, gitUri, pathInRepository, uploadedFileName } from './builds';
import { parseByteQuantity } from './namespaces';
import { cpuQuantity, memoryQuantity, parseCpuQuantity } from './quotas';

/** new-app's `builder`: a catalog name, `<stream>:<tag>` or `<ns>/<stream>:<tag>` (builderRefOfName). */
const LABEL = DNS1123_LABEL.source.slice(1, -1);
const BUILDER_NAME = new RegExp(`^(${LABEL}|(${LABEL}/)?${IMAGE_STREAM_TAG_NAME.source.slice(1, -1)})$`);

/** `POST /api/v1/namespaces/{ns}/apps`: what `oc new-app` takes, as one JSON body. */
export const newAppRequest = z
  .object({
    name: dns1123Label,
    /**
     * A git repository (`git`, `ref`), or `binary` (`{}`, or `{asFile}` for a single file): the
     * files come with each build (`instantiatebinary`), as `oc new-app --binary` makes it.
     */
    source: z
      .object({
        git: gitUri.optional(),
        ref: gitRef.default('main'),
        binary: z.object({ asFile: uploadedFileName.optional() }).strict().optional(),
        contextDir: pathInRepository.optional(),
      })
      .strict()
      .superRefine((source, ctx) => {
        if (!source.git && !source.binary) ctx.addIssue({ code: 'custom', path: ['git'], message: 'give git (the repository to build), or binary ({}: the files come with each build)' });
        if (source.git && source.binary) ctx.addIssue({ code: 'custom', path: ['binary'], message: 'give git or binary, not both' });
      }),
    /**
     * A builder from the catalog (`nodejs`), or a builder image's stream tag of this namespace
     * (`<stream>:<tag>`) or of another that lets this one's builds pull it (`<ns>/<stream>:<tag>`;
     * a new image there rebuilds the app): a Source (s2i) build. Without one, as `oc new-app`
     * does: the repository's Dockerfile (a Docker build), else the builder its files call for.
     */
    builder: z
      .string()
      .max(255)
      .regex(BUILDER_NAME, 'must be a catalog builder (nodejs), <imagestream>:<tag>, or <namespace>/<imagestream>:<tag>')
      .optional(),
    /** `Docker` builds the repository's Dockerfile even when a builder would fit; `Source` never does. */
    strategy: z.enum(['Source', 'Docker']).optional(),
    /** The port the app listens on inside its container (it gets it as `PORT`). */
    port: z.number().int().min(1).max(65535).default(8080),
    env: z.array(envVar).max(100).default([]),
    replicas: z.number().int().min(0).max(20).default(1),
    readinessPath: z.string().startsWith('/', 'must start with /').max(1024).default('/'),
    /** The container's limits in Kubernetes quantities (`{memory: "256Mi", cpu: "500m"}`); without, the platform's default memory limit and no CPU limit. */
    limits: z
      .object({
        memory: memoryQuantity.refine((value) => (parseByteQuantity(value) ?? Infinity) >= 4 << 20, 'must be at least 4Mi').optional(),
        cpu: cpuQuantity.refine((value) => (parseCpuQuantity(value) ?? Infinity) >= 10, 'must be at least 10m').optional(),
      })
      .strict()
      .optional(),
    route: z.object({ host: z.string().max(253).optional() }).strict().default({}),
  })
  .strict()
  .refine((app) => !(app.strategy === 'Docker' && app.builder), { message: 'a Docker build uses the Dockerfile, not a builder: give one or the other', path: ['builder'] })
  .refine((app) => !app.source.binary || app.source.git || app.builder || app.strategy === 'Docker', {
    message: 'a binary app has no repository to pick a builder from: name the builder, or strategy Docker for a Dockerfile among the files',
    path: ['builder'],
  });
export type NewAppRequest = z.infer<typeof newAppRequest>;
