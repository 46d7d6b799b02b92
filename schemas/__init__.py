"""The project's MedCom-style XSDs, shipped as package data of `medcom.schemas`."""
