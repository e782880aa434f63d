/** What a member of a service's team may do there. */
export type Permission = 'send_messages' | 'manage_templates' | 'manage_service' | 'manage_api_keys' | 'view_activity';

export const ALL_PERMISSIONS: readonly Permission[] = [
  'send_messages',
  'manage_templates',
  'manage_service',
  'manage_api_keys',
  'view_activity',
];
