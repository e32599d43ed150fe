import type { EventVersioning } from '../shared/upcasting.ts';

/** UserRegistered v1 predates roles: every account then was a customer. */
export const userEventVersions: Readonly<Record<string, EventVersioning>> = {
  UserRegistered: {
    current: 2,
    steps: {
      1: (data) => ({ ...data, role: 'customer' }),
    },
  },
};
