// The per-device results of a device policy (DeviceActionResult in src/interfaces.ts), as the job's
// record and a `partial` dead letter show them.
import { DEVICE_ACTION_STATES, DEVICE_ACTIONS } from '../../interfaces.js';

export const deviceActionResult = {
  title: 'DeviceActionResult',
  type: 'object',
  additionalProperties: true,
  required: ['deviceId', 'action', 'state'],
  properties: {
    deviceId: { type: 'string' },
    action: { type: 'string', enum: DEVICE_ACTIONS.filter((a) => a !== 'none') },
    state: {
      type: 'string',
      enum: DEVICE_ACTION_STATES,
      description:
        'planned (dry run), sending (recorded before the call), done, gone (404: counts as done), failed, skipped (an earlier action of the device failed)',
    },
    status: { type: 'integer' },
    requestId: { type: 'string' },
    graphCode: { type: 'string' },
    message: { type: 'string' },
    at: { type: 'string' },
  },
} as const;

export const deviceActionResults = {
  type: 'array',
  items: deviceActionResult,
  description: 'With a device policy: every device × action in plan order, with its result',
} as const;
