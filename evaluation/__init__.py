"""Evaluation and benchmarks (not shipped with the extension): the model against real cine, the phantom
against real images, speed.

    python -m evaluation sunnybrook DATA_DIR --out DIR   real-cine Dice against the experts' contours
    python -m evaluation realism ...                     phantom vs Sunnybrook image statistics (realism.md)
    python -m evaluation ssim-ceiling --ref SET --out DIR the LGE SSIM a perfect model reaches on the phantom
    python -m evaluation bench ...                       model latency, memory, FLOPs, training throughput
    python -m evaluation bench-e2e ...                   end-to-end `pscgan infer` and a plain 3D U-Net
"""
