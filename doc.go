// Package coco lets a Go service answer with a small language model (SLM) when it
// can and pay a large language model (LLM) only when it must, and then only for as
// few tokens as possible.
//
// This release holds the foundation every stage of the pipeline stands on:
//
//   - [Model], Coco's one-method contract for a language model, and [ModelFunc];
//   - token counting that works offline ([CountTokens], [CountChatTokens],
//     [TokenCounter]);
//   - exact money ([Money]) and a price table ([PriceTable], [DefaultPrices],
//     [LoadLiteLLM]);
//   - a [Meter] that records every call per stage and per model, enforces a hard
//     budget under concurrent use, and prices counterfactuals.
//
// Nothing in the package reads environment variables, logs, or reaches the network
// on its own: the only network traffic is the model calls a caller makes.
package coco
