"""The logit lens from Python: where does SmolLM2 decide that France's capital is Paris?

Run: .venv/bin/python examples/logit_lens.py
"""

from vocablens.lens.logit_lens import Lens


def main() -> None:
    lens = Lens("smollm2-135m")
    result = lens(["The capital of France is"], k=5, target=" Paris")
    print(result.table(0))
    last = len(result.token_ids[0]) - 1
    print("final top-1:", repr(result.token(result.final_top1[0, last])))
    print("first layer where it is top-1:", result.first_top1_layer[0, last])
    frame = result.to_pandas()  # one row per (prompt, site, layer, position)
    print(
        frame[frame.position == last][["layer", "top1", "top1_prob", "kl_to_final", "target_rank"]]
    )


if __name__ == "__main__":
    main()
