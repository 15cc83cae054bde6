import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { PipelineError as _samsa_v1_PipelineError, PipelineError__Output as _samsa_v1_PipelineError__Output } from './samsa/v1/PipelineError.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  samsa: {
    v1: {
      PipelineError: MessageTypeDefinition<_samsa_v1_PipelineError, _samsa_v1_PipelineError__Output>
    }
  }
}

