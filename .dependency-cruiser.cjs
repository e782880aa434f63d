/**
 * What each part of Envoi may import (docs/architecture.md). `npm run lint` checks it; a violation fails CI.
 */
const DOMAIN =
  '^src/(platform/(accounts|services|audit|secret-box|csv-safety)|notify/(sending|jobs|delivery|templates|template-language|settings|reporting))';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes two modules one: split what both need into a third.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'platform-is-below-products',
      severity: 'error',
      comment: 'The platform serves every product and knows none of them; the composition root wires them.',
      from: { path: '^src/platform/' },
      to: { path: '^src/(notify|forms|commands)/|^src/(app|app-services|roles|web-ui|cli)\\.ts$' },
    },
    {
      name: 'products-are-independent',
      severity: 'error',
      comment: 'Notify and Forms meet only through the platform and the composition root.',
      from: { path: '^src/(notify|forms)/' },
      to: { path: '^src/(notify|forms|commands)/|^src/(app|app-services|roles|web-ui|cli)\\.ts$', pathNot: '^src/$1/' },
    },
    {
      name: 'domain-knows-no-http',
      severity: 'error',
      comment: 'Domain logic refuses with typed values and never imports HTTP, admin or API code.',
      from: { path: DOMAIN },
      to: { path: '^src/[^/]+/(admin|api|ui|http)/|^node_modules/(fastify|@fastify)/' },
    },
    {
      name: 'only-repositories-touch-sql',
      severity: 'error',
      comment: 'SQL lives in repositories (and the database layer): routes and domain logic call them.',
      from: { pathNot: '^src/platform/database/|^src/platform/queue/claim-queue\\.ts$|/repositories/|^test/|^bench/' },
      to: { path: '^node_modules/(kysely|pg|@electric-sql)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-test',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { path: '^test/|\\.test\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
