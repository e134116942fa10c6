// What Graph answers a request its v1.0 metadata does not allow (the checks: src/graph/contract),
// in Graph's own words where Microsoft's answers are on record, else the closest faithful form:
//
// - $select, any type: 400 BadRequest "Parsing OData Select and Expand failed: Could not find a
//   property named 'x' on type 'microsoft.graph.managedDevice'." (Graph's answer, shared/graph/README.md).
// - $filter on users (the directory): 400 Request_UnsupportedQuery "Property 'x' does not exist as a
//   declared property or extension property." (a v1.0 answer quoted in msgraph-sdk-php issue 329).
// - $filter / $orderby on Intune's managedDevice (an OData .NET service): 400 BadRequest "The query
//   specified in the URI is not valid. Could not find a property named 'x' on type '…'." (the OData
//   wrapper Graph answers for such a $filter, as quoted in microsoft-graph-docs-contrib issue 7212;
//   for $orderby the same parser and wording are assumed: a close form, not a recorded answer).
// - an action parameter the action does not take: 400 BadRequest "The parameter 'x' in the request
//   payload is not a valid parameter for the operation 'y'." (OData .NET's parameter reader wording;
//   close form, no recorded Graph answer found).
// - an enum value that does not exist: 400 BadRequest "Cannot convert the literal 'x' to the expected
//   type 'microsoft.graph.managementState'." (OData .NET wording; close form).
// - a parameter value of the wrong JSON type (a string for an Edm.Boolean): 400 BadRequest "Cannot
//   convert a primitive value to the expected type 'Edm.Boolean'. See the inner exception for more
//   details." (OData .NET's reader wording; close form).
// - a segment the type does not have: 400 BadRequest "Resource not found for the segment 'x'." (Graph).
import type { ContractViolation } from '../../graph/contract/check.js';

export interface Refusal {
  status: 400;
  code: string;
  message: string;
}

const DIRECTORY_TYPES = new Set(['microsoft.graph.user']);

export function refusal(v: ContractViolation): Refusal {
  const bad = (message: string, code = 'BadRequest'): Refusal => ({ status: 400, code, message });
  switch (v.kind) {
    case 'property':
      if (v.option === '$select') {
        return bad(
          `Parsing OData Select and Expand failed: Could not find a property named '${v.property}' on type '${v.type}'.`,
        );
      }
      if (v.option === 'body') {
        return bad(`The property '${v.property}' does not exist on type '${v.type}'.`);
      }
      if (DIRECTORY_TYPES.has(v.type)) {
        return bad(
          `Property '${v.property}' does not exist as a declared property or extension property.`,
          'Request_UnsupportedQuery',
        );
      }
      return bad(
        `The query specified in the URI is not valid. Could not find a property named '${v.property}' on type '${v.type}'.`,
      );
    case 'parameter':
      return bad(
        `The parameter '${v.parameter}' in the request payload is not a valid parameter for the operation '${v.action}'.`,
      );
    case 'enum':
      return bad(`Cannot convert the literal '${v.value}' to the expected type '${v.enumType}'.`);
    case 'type':
      return bad(
        `Cannot convert a primitive value to the expected type '${v.expected}'. See the inner exception for more details.`,
      );
    case 'segment':
      return bad(`Resource not found for the segment '${v.segment}'.`);
    case 'option':
      return bad(`The query parameter '${v.option}' is not supported.`);
    case 'method':
      return bad(`The request method '${v.method}' is not allowed on this resource.`);
    case 'body':
      return bad('The request body is not a valid JSON object for this operation.');
  }
}
