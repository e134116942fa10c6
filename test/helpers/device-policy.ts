// A device policy (DEVICE_POLICY_FILE's shape once loaded) for tests of the surfaces that name a
// profile: `standard` (the default) retires personal devices and wipes company Windows; `dispose`
// wipes, deletes and deregisters company Windows laptops.
import type { DevicePolicy } from '../../src/device-policy/types.js';

export const TEST_POLICY: DevicePolicy = {
  default: 'standard',
  source: 'test-policy.yaml',
  profiles: {
    standard: {
      rules: [
        { match: { ownerType: 'personal' }, actions: ['retire'] },
        {
          match: { ownerType: 'company', os: 'Windows' },
          actions: ['wipe'],
          wipe: { keepEnrollmentData: false, keepUserData: false },
        },
        { match: {}, actions: ['retire'] },
      ],
    },
    dispose: {
      rules: [
        {
          match: { ownerType: 'company', os: 'Windows' },
          actions: ['wipe', 'delete', 'autopilot-deregister'],
        },
        { match: {}, actions: ['retire'] },
      ],
    },
  },
};
