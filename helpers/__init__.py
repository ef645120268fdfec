"""Shared code for the Multimodal Search and RAG course.

Shared modules (used by two steps or more) sit at the top; what only one step uses sits
in that step's package. A step package never imports another step package, and a shared
module never imports a step package (``tests/test_layout.py`` checks both, and that there
is no import cycle).

Shared:

- ``helpers.settings``        paths from the repository root, profile, seeds, threads, device
- ``helpers.data``            the data set: records, splits, readers, manifest check (``--check``)
- ``helpers.audio``           waveforms to log-mel spectrograms; the speech tower's input features
- ``helpers.pixels``          pictures as the image tower reads them: RGBA tensors, CLIP normalisation
- ``helpers.speech_synthesis`` espeak-ng -> trimmed -> Opus: the data set's speech pipeline, also for extra voices
- ``helpers.towers``          the image and audio towers (``transformers`` models) and video pooling
- ``helpers.embeddings``      the embedding API: embed_text / embed_image / embed_audio / embed_video, anchors
- ``helpers.pretrained``      the pretrained profile's hub models (open_clip, Whisper, a LLaVA), found or failing fast
- ``helpers.tiny_models``     tiny random stand-ins of those models' classes, for tests without the hub
- ``helpers.pretrained_speed`` those models' speed here, timed on random weights (``python -m``)
- ``helpers.timing``          the median of a few timed runs, for a shared, noisy machine
- ``helpers.losses``          CLIP's symmetric InfoNCE with a learned temperature, and the MSE baseline
- ``helpers.training``        the one training loop (``fit``) and a checkpoint's training record
- ``helpers.metrics``         recall@k as batched matrix products, per modality pair, and ANN recall
- ``helpers.corpus``          the whole data set embedded once (cached), indexed, and recall per modality pair
- ``helpers.llava``           the course's small LLaVA: tokenizer, vision tower, decoder, processor, checkpoint loader
- ``helpers.dialogue``        prompts in its chat template (one picture, several, none), answer-only labels, answers
- ``helpers.plotting``        image grids, spectrograms, video strips, recall heatmaps, players
- ``helpers.bench``           ``python -m helpers.bench``: the course's metrics; notebooks' ``record``
- ``helpers.notebook_outputs`` a run's outputs written back into the notebooks, deterministically
- ``helpers.vector_store``    the store interface, ``open_store()``, and a module per backend:
  ``interface``, ``lancedb_backend`` (default), ``weaviate_backend``; ``target_join`` (multi-target
  search: Weaviate's join strategies written out, and for many queries at once); ``check`` (``python -m
  helpers.vector_store.check``: duplicates, non-finite vectors, ``--repair``); ``soak`` (concurrent
  writers and readers, for the benchmark)

One package per step:

- ``helpers.step1``  ``digits`` (notebook 1.1's experiment), ``augment`` (training views),
  ``binding`` (towers trained against MiniLM anchors), ``evaluation`` (held-out figures),
  ``rebuild`` (``python -m helpers.step1.rebuild``), ``bench`` (its benchmark keys)
- ``helpers.step2``  ``scale`` (search from 10 k to 1 M vectors), ``bench``
- ``helpers.step3``  ``scenes`` (scene graphs and instruction data), ``visual_instruction``
  (pretraining, the two stages, evaluation), ``rebuild`` (``python -m helpers.step3.rebuild``), ``bench``
- ``helpers.step4``  ``cards`` (a card of facts per concept, catalog draws, questions),
  ``knowledge_base`` (the cards in the store, four named vectors each), ``retrieval`` (queries in
  any modality; vector, keyword and hybrid search), ``generator`` (the LLaVA with numbered
  sources: RAFT data, training, cited replies), ``pipeline`` (``ask``, timed by stage),
  ``evaluation`` (closed-book, oracle and RAG; the update test; abstention; retrieval by
  method), ``rebuild`` (``python -m helpers.step4.rebuild``)
- ``helpers.step5``  ``documents`` (invoices and receipts drawn from a seed, their ground truth),
  ``layouts`` (a document as a page in a training or a test layout, every word with its box
  and field), ``scan`` (rotation, blur, shadow and JPEG, the boxes turned with the page), ``ocr``
  (words with boxes from Tesseract and RapidOCR), ``alignment`` (OCR words labelled by the page's
  words, IOB2 tags, character error rate), ``schema`` (printed values into a typed record,
  bookkeeping checks, the review queue), ``scoring`` (field F1 and line-item F1), ``rules`` (the
  regular-expression and keyword baseline), ``dataset`` (scanned pages with truth and OCR, built
  once into ``build/step5/``), ``layout_model`` (LayoutLM from MiniLM's weights; a page's words as
  its inputs; training; tags per word), ``decoding`` (its tags back into fields and line items)
- ``helpers.step6``  ``catalog`` (the concepts as shop items, three named vectors, prices, new
  items), ``shoppers`` (simulated tastes on metadata and pixels, purchases split by time),
  ``recommenders`` (popularity, profile similarity, fusion, reciprocal rank fusion, ALS, for many
  shoppers at once), ``ranking_metrics`` (HR, nDCG, coverage, popularity bias), ``store_recommender``
  (one shopper's list from the store, and why each item is on it), ``evaluation`` (every recommender on the
  same shoppers, the join chosen on validation; the ``step6.*`` keys), ``figures`` (a shopper's lists
  as rows of pictures), ``bench``

One application package, above the steps (it may import any step; nothing imports it):

- ``helpers.demo``  the instructor's demo app (``python -m helpers.demo``, its ``__main__``): ``engine``
  (search, ask and compare over the course's store, without a web page), ``views`` (results as HTML
  cards with pictures and players), ``app`` (the Gradio app and its launch), ``browser`` (headless
  Chromium through Selenium, for its tests and benchmark), ``bench`` (``python -m helpers.demo.bench``)

Importing the package applies the profile (offline by default: no hub calls).
"""

from helpers import settings

__all__ = ["settings"]
